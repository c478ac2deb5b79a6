using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using static UserDataApi.Tests.Infrastructure.UserDataFixture;
using static UserDataApi.Tests.Infrastructure.Waits;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Group commit (<see cref="SetBatcher"/>): sets that wait while a batch is in the database go out together in one
/// statement and one commit, each is answered only after that commit, and each gets what a set of its own would have.
/// </summary>
public sealed class SetBatcherTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Sets_that_wait_for_a_batch_go_out_together_and_are_answered_only_once_committed()
    {
        var user = UserDataFixture.NewUser();
        await using var batcher = new SetBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);

        var first = Store(batcher, user, "k-first", "v-first");
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);
        var rest = Enumerable.Range(0, 40).Select(i => Store(batcher, user, $"k{i}", $"v{i}")).ToList();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        Assert.All(rest, set => Assert.False(set.IsCompleted));
        Assert.Equal((1, 1), batcher.Sent);
        await locked.ReleaseAsync();

        // Each answer comes after its commit: at that moment another connection already reads the row.
        var seenWhenAnswered = rest.Prepend(first).Select(async (set, i) =>
        {
            Assert.Equal(SetOutcome.Stored, await set.WaitAsync(Patience));
            return await ValueAsync(user, i == 0 ? "k-first" : $"k{i - 1}");
        }).ToList();
        var seen = await Task.WhenAll(seenWhenAnswered);

        Assert.Equal<string?>(["v-first", .. Enumerable.Range(0, 40).Select(i => $"v{i}")], seen.ToList());
        Assert.Equal((2, 41), batcher.Sent);
    }

    [Fact]
    public async Task Two_sets_of_one_record_never_share_a_batch_and_the_later_one_wins()
    {
        var user = UserDataFixture.NewUser();
        await using var batcher = new SetBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var held = Store(batcher, user, "warm", "w");
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var sets = new[] { Store(batcher, user, "same", "1"), Store(batcher, user, "other", "o"), Store(batcher, user, "same", "2"), Store(batcher, user, "same", "3") };
        await locked.ReleaseAsync();

        Assert.All(await Task.WhenAll(sets.Prepend(held)).WaitAsync(Patience), outcome => Assert.Equal(SetOutcome.Stored, outcome));
        Assert.Equal("3", await ValueAsync(user, "same"));
        Assert.Equal("o", await ValueAsync(user, "other"));
        // The held batch, then ["same"=1, "other"], ["same"=2], ["same"=3].
        Assert.Equal((4, 5), batcher.Sent);
    }

    [Fact]
    public async Task A_set_the_database_refuses_fails_no_other_set_of_its_batch()
    {
        var user = UserDataFixture.NewUser();
        await fixture.SeedAsync(user, "telegram", "foreign", "theirs", AccessScope.Public, "app-2");
        await using var batcher = new SetBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var held = Store(batcher, user, "warm", "w");
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        // A key too large for the unique index's btree (random, so that it does not compress below the limit).
        var tooLarge = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4000));
        var good = Enumerable.Range(0, 5).Select(i => Store(batcher, user, $"good{i}", $"g{i}")).ToList();
        var refused = Store(batcher, user, tooLarge, "x");
        var foreign = Store(batcher, user, "foreign", "mine");
        var late = batcher.StoreAsync(ByIdp(user), "late", "l", AccessScope.Public, "app-1", CancellationToken.None, DateTime.UtcNow.AddSeconds(-5));
        good.Add(Store(batcher, user, "good5", "g5"));
        await locked.ReleaseAsync();

        await held.WaitAsync(Patience);
        Assert.All(await Task.WhenAll(good).WaitAsync(Patience), outcome => Assert.Equal(SetOutcome.Stored, outcome));
        var failure = await Assert.ThrowsAsync<PostgresException>(() => refused.WaitAsync(Patience));
        Assert.Equal("54000", failure.SqlState); // program_limit_exceeded: index row size
        Assert.Equal(SetOutcome.KeyAccessDenied, await foreign.WaitAsync(Patience));
        await Assert.ThrowsAsync<StorageTimeoutException>(() => late.WaitAsync(Patience));

        for (var i = 0; i < good.Count; i++)
        {
            Assert.Equal($"g{i}", await ValueAsync(user, $"good{i}"));
        }
        Assert.Equal("theirs", await ValueAsync(user, "foreign"));
        Assert.Null(await ValueAsync(user, "late"));
        Assert.Null(await ValueAsync(user, tooLarge));
        // All of them queued behind the held batch went out together first.
        Assert.Equal(2, batcher.Sent.Batches);
    }

    [Fact]
    public async Task A_batch_held_past_the_deadline_fails_its_sets_and_none_of_them_lands_later()
    {
        var user = UserDataFixture.NewUser();
        await using var dataSource = PersistenceExtensions.BuildDataSource(fixture.ConnectionString + ";Command Timeout=1", null);
        await using var batcher = new SetBatcher(dataSource, maxBatchesInFlight: 1, timeout: TimeSpan.FromSeconds(1));
        await Store(batcher, user, "warm", "w", DateTime.UtcNow.AddSeconds(1)).WaitAsync(Patience);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);

        var started = DateTime.UtcNow;
        var held = Enumerable.Range(0, 3).Select(i => Store(batcher, user, $"held{i}", "h", DateTime.UtcNow.AddSeconds(1))).ToList();
        foreach (var set in held)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => set.WaitAsync(Patience));
            Assert.True(failure is TimeoutException or OperationCanceledException or NpgsqlException, failure.ToString());
        }
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));
        await Task.Delay(500);
        await locked.ReleaseAsync();

        Assert.Equal(SetOutcome.Stored, await Store(batcher, user, "after", "a", DateTime.UtcNow.AddSeconds(1)).WaitAsync(Patience));
        Assert.Equal(2, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Beyond_its_bound_the_queue_refuses_a_set_at_once_and_still_answers_the_queued_ones()
    {
        var user = UserDataFixture.NewUser();
        await using var batcher = new SetBatcher(DataSource, maxBatchesInFlight: 1, maxQueuedSets: 3);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var held = Store(batcher, user, "warm", "w");
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var queued = Enumerable.Range(0, 3).Select(i => Store(batcher, user, $"q{i}", "q")).ToList();
        var refused = Store(batcher, user, "refused", "r");

        Assert.IsType<StorageQueueFullException>(refused.Exception?.InnerException);
        await locked.ReleaseAsync();
        Assert.All(await Task.WhenAll(queued.Prepend(held)).WaitAsync(Patience), outcome => Assert.Equal(SetOutcome.Stored, outcome));
        Assert.Equal(4, await fixture.CountRecordsAsync(user));
    }

    private NpgsqlDataSource DataSource => fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();

    private static Task<SetOutcome> Store(SetBatcher batcher, string user, string key, string value, DateTime? writableUntil = null) =>
        batcher.StoreAsync(ByIdp(user), key, value, AccessScope.Public, "app-1", CancellationToken.None, writableUntil ?? DateTime.UtcNow.AddMinutes(1));

    private async Task<string?> ValueAsync(string user, string key)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT value_data FROM user_data_records WHERE user_id = $1 AND family = 0 AND identity_provider = 'telegram' AND value_key = $2", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = user });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return (string?)await command.ExecuteScalarAsync();
    }

}
