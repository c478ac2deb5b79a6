using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using static UserDataApi.Tests.Infrastructure.UserDataFixture;
using static UserDataApi.Tests.Infrastructure.Waits;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Concurrent list-gets and shared-list-get pages share one statement each (<see cref="OwnKeysBatcher"/>,
/// <see cref="SharedPageBatcher"/>), and each still gets exactly what a statement of its own would have answered.
/// </summary>
public sealed class ListBatcherTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private static readonly string[] Apps = ["app-1", "app-2", "app-3"];

    private sealed record Stored(string User, string Key, AccessScope Scope, string App);

    [Fact]
    public async Task List_gets_that_wait_for_a_batch_go_out_together_and_each_gets_its_own_keys()
    {
        var stored = await SeedAsync();
        await using var batcher = new OwnKeysBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var users = stored.Select(s => s.User).Distinct().ToList();
        var held = batcher.ListAsync(ByIdp(users[0]), "app-1", CancellationToken.None);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var asks = (from user in users.Append("nobody") from app in Apps select (user, app)).ToList();
        var listings = asks.Select(ask => batcher.ListAsync(ByIdp(ask.user), ask.app, CancellationToken.None)).ToList();
        var odd = batcher.ListAsync(ByIdp("user\0x"), "app-1", CancellationToken.None);
        await locked.ReleaseAsync();

        await held.WaitAsync(Patience);
        var answers = await Task.WhenAll(listings).WaitAsync(Patience);
        for (var i = 0; i < asks.Count; i++)
        {
            var own = stored.Where(s => s.User == asks[i].user && s.App == asks[i].app).ToList();
            Assert.Equal(KeysOf(own, AccessScope.Private), answers[i].Private);
            Assert.Equal(KeysOf(own, AccessScope.Public), answers[i].Public);
        }
        Assert.True((await odd.WaitAsync(Patience)).IsEmpty);
        Assert.Contains(answers, a => a.IsEmpty);
        Assert.Contains(answers, a => a.Private.Length > 1 && a.Public.Length > 1);
        Assert.Equal(2, batcher.Sent.Batches);
    }

    [Fact]
    public async Task Shared_pages_that_wait_for_a_batch_go_out_together_and_each_keeps_its_own_cursor_and_size()
    {
        var stored = await SeedAsync();
        await using var batcher = new SharedPageBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(fixture.ConnectionString);
        var users = stored.Select(s => s.User).Distinct().ToList();
        var held = batcher.PageAsync(ByIdp(users[0]), "app-1", "", 10, CancellationToken.None);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var asks = (from user in users from app in Apps from after in new[] { "", "k05", "k2" } from size in new[] { 1, 3, 100 } select (user, app, after, size)).ToList();
        var pages = asks.Select(ask => batcher.PageAsync(ByIdp(ask.user), ask.app, ask.after, ask.size, CancellationToken.None)).ToList();
        await locked.ReleaseAsync();

        await held.WaitAsync(Patience);
        var answers = await Task.WhenAll(pages).WaitAsync(Patience);
        for (var i = 0; i < asks.Count; i++)
        {
            var (user, app, after, size) = asks[i];
            var expected = stored.Where(s => s.User == user && s.App != app && s.Scope == AccessScope.Public && string.CompareOrdinal(s.Key, after) > 0)
                .Select(s => s.Key).Order(StringComparer.Ordinal).Take(size);
            Assert.Equal(expected, answers[i]);
        }
        Assert.Contains(answers, a => a.Length == 3);
        Assert.Contains(answers, a => a.Length > 3);
        // 162 pages of at most 100 keys (weighing 1 each): batches of at most 64, far fewer than one each.
        Assert.InRange(batcher.Sent.Batches, 1 + 3, 1 + 10);
    }

    private NpgsqlDataSource DataSource => fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Six users, each with 12 keys spread over three client apps, private and public.</summary>
    private async Task<List<Stored>> SeedAsync()
    {
        var stored = new List<Stored>();
        foreach (var user in Enumerable.Range(0, 6).Select(_ => UserDataFixture.NewUser()))
        {
            for (var k = 0; k < 12; k++)
            {
                var record = new Stored(user, $"k{k:00}", k % 3 == 0 ? AccessScope.Private : AccessScope.Public, Apps[k % 2 == 0 ? 0 : k % 3 == 1 ? 1 : 2]);
                await fixture.SeedAsync(record.User, "telegram", record.Key, "v", record.Scope, record.App);
                stored.Add(record);
            }
        }
        return stored;
    }

    private static string[] KeysOf(IEnumerable<Stored> records, AccessScope scope) =>
        records.Where(r => r.Scope == scope).Select(r => r.Key).Order(StringComparer.Ordinal).ToArray();

}
