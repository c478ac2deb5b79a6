using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using static UserDataApi.Tests.Infrastructure.UserDataFixture;
using static UserDataApi.Tests.Infrastructure.Waits;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Group commit for deletes (<see cref="DeleteBatcher"/>): deletes that wait while a batch is in the database go out together
/// in one transaction, each keeps its own rule, each is answered only once committed, and one that fails fails no other.
/// </summary>
public sealed class DeleteBatcherTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Deletes_that_wait_for_a_batch_go_out_together_each_by_its_own_rule()
    {
        var users = Enumerable.Range(0, 4).Select(_ => UserDataFixture.NewUser()).ToList();
        foreach (var user in users)
        {
            await fixture.SeedAsync(user, "telegram", "mine", "m", AccessScope.Public, "app-1");
            await fixture.SeedAsync(user, "telegram", "theirs", "t", AccessScope.Public, "app-2");
        }
        await using var batcher = new DeleteBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var held = Delete(batcher, ByIdp("warm-up"), ["nothing"], allOrNothing: true);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        // users[0]: all or nothing with another's key: nothing goes. users[1]: all or nothing, own key only: it goes.
        // users[2]: own keys only, with another's key: only the own one goes. users[3]: own keys only, nothing listed exists.
        var refused = Delete(batcher, ByIdp(users[0]), ["mine", "theirs"], allOrNothing: true);
        var removed = Delete(batcher, ByIdp(users[1]), ["mine", "mine", "absent"], allOrNothing: true);
        var own = Delete(batcher, ByIdp(users[2]), ["theirs", "mine"], allOrNothing: false);
        var none = Delete(batcher, ByIdp(users[3]), ["absent"], allOrNothing: false);
        var late = batcher.DeleteAsync(ByIdp(users[3]), ["mine"], "app-1", allOrNothing: false, CancellationToken.None, DateTime.UtcNow.AddSeconds(-5));
        await Task.Delay(200);
        Assert.False(refused.IsCompleted);
        await locked.ReleaseAsync();

        await held.WaitAsync(Patience);
        Assert.Equal((2, 1), Counts(await refused.WaitAsync(Patience)));
        Assert.Equal((1, 0), Counts(await removed.WaitAsync(Patience)));
        Assert.Equal(["mine"], (await own.WaitAsync(Patience)).Removed);
        Assert.Empty((await none.WaitAsync(Patience)).Removed);
        await Assert.ThrowsAsync<StorageTimeoutException>(() => late.WaitAsync(Patience));

        Assert.Equal(2, await fixture.CountRecordsAsync(users[0]));
        Assert.Equal(1, await fixture.CountRecordsAsync(users[1]));
        Assert.Equal(1, await fixture.CountRecordsAsync(users[2]));
        Assert.Equal(2, await fixture.CountRecordsAsync(users[3]));
        // users[3] twice: its second delete waited for a batch of its own.
        Assert.Equal(3, batcher.Sent.Batches);
    }

    [Fact]
    public async Task A_delete_the_database_refuses_fails_no_other_delete_of_its_batch()
    {
        var users = Enumerable.Range(0, 3).Select(_ => UserDataFixture.NewUser()).ToList();
        foreach (var user in users)
        {
            await fixture.SeedAsync(user, "telegram", "mine", "m", AccessScope.Public, "app-1");
        }
        await using var batcher = new DeleteBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var held = Delete(batcher, ByIdp("warm-up"), ["nothing"], allOrNothing: true);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var first = Delete(batcher, ByIdp(users[0]), ["mine"], allOrNothing: true);
        // A NUL PostgreSQL cannot take as text: this statement fails, and with it the batch's transaction.
        var broken = Delete(batcher, ByIdp(users[1]), ["mi\0ne"], allOrNothing: false);
        var last = Delete(batcher, ByIdp(users[2]), ["mine"], allOrNothing: false);
        await locked.ReleaseAsync();

        await held.WaitAsync(Patience);
        Assert.Equal((1, 0), Counts(await first.WaitAsync(Patience)));
        await Assert.ThrowsAsync<PostgresException>(() => broken.WaitAsync(Patience));
        Assert.Equal(["mine"], (await last.WaitAsync(Patience)).Removed);
        Assert.Equal(0, await fixture.CountRecordsAsync(users[0]));
        Assert.Equal(1, await fixture.CountRecordsAsync(users[1]));
        Assert.Equal(0, await fixture.CountRecordsAsync(users[2]));
        Assert.Equal(2, batcher.Sent.Batches);
    }

    private NpgsqlDataSource DataSource => fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();

    private static Task<DeleteOutcome> Delete(DeleteBatcher batcher, Filing filing, string[] keys, bool allOrNothing) =>
        batcher.DeleteAsync(filing, keys, "app-1", allOrNothing, CancellationToken.None, DateTime.UtcNow.AddMinutes(1));

    private static (int Listed, int Foreign) Counts(DeleteOutcome outcome) => (outcome.Listed, outcome.Foreign);
}
