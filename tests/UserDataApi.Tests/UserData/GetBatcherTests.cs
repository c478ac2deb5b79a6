using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using static UserDataApi.Tests.Infrastructure.UserDataFixture;
using static UserDataApi.Tests.Infrastructure.Waits;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Concurrent gets share one statement (<see cref="GetBatcher"/>): the gets that wait while a batch is in
/// the database go out together, and each still gets exactly what a get of its own would have.
/// </summary>
public sealed class GetBatcherTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private sealed record Stored(string User, string Provider, string Key, string Value, AccessScope Scope, string App);

    private sealed record Ask(string User, string Provider, string[] Keys, string App);

    [Fact]
    public async Task Gets_that_wait_for_a_batch_go_out_together_and_each_gets_its_own_answer()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        await using var batcher = new GetBatcher(DataSource, maxBatchesInFlight: 1);

        // Hold the first batch in the database while the other gets queue up.
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);
        var first = Find(batcher, asks[0]);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);
        var rest = asks.Skip(1).Select(ask => Find(batcher, ask)).ToList();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        Assert.Equal((1, 1), batcher.Sent);
        await locked.ReleaseAsync();

        var answers = await Task.WhenAll(rest.Prepend(first)).WaitAsync(Patience);

        Assert.Equal((2, asks.Count), batcher.Sent);
        for (var i = 0; i < asks.Count; i++)
        {
            Assert.Equal(Expected(stored, asks[i]), answers[i].OrderBy(p => p.Key, StringComparer.Ordinal));
        }
        Assert.Contains(answers, a => a.Count == 0);
        Assert.Contains(answers, a => a.Count > 1);
    }

    [Fact]
    public async Task A_batch_that_fails_fails_each_of_its_gets()
    {
        await using var deadDataSource = NpgsqlDataSource.Create(ApiFactory.UnreachableDatabase);
        await using var batcher = new GetBatcher(deadDataSource, maxBatchesInFlight: 1);

        var gets = Enumerable.Range(0, 20).Select(i => batcher.FindAsync(ByIdp($"user-{i}", "telegram"), ["k"], "app-1", CancellationToken.None)).ToList();

        foreach (var get in gets)
        {
            await Assert.ThrowsAsync<NpgsqlException>(() => get.WaitAsync(Patience));
        }
        Assert.Equal(gets.Count, batcher.Sent.Calls);
    }

    [Fact]
    public async Task Disposing_answers_the_gets_already_queued_then_refuses_new_ones()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        var batcher = new GetBatcher(DataSource, maxBatchesInFlight: 1);

        var gets = asks.Select(ask => Find(batcher, ask)).ToList();
        await batcher.DisposeAsync();

        Assert.All(gets, get => Assert.True(get.IsCompletedSuccessfully));
        var answers = await Task.WhenAll(gets);
        for (var i = 0; i < asks.Count; i++)
        {
            Assert.Equal(Expected(stored, asks[i]), answers[i].OrderBy(p => p.Key, StringComparer.Ordinal));
        }
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Find(batcher, asks[0]));
    }

    [Fact]
    public async Task A_get_whose_caller_gave_up_stops_waiting_and_its_batch_answers_the_others()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        await using var batcher = new GetBatcher(DataSource, maxBatchesInFlight: 1);
        using var gaveUp = new CancellationTokenSource();
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);
        var held = Find(batcher, asks[0]);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var abandoned = batcher.FindAsync(ByIdp(asks[1].User, asks[1].Provider), asks[1].Keys, asks[1].App, gaveUp.Token);
        var other = Find(batcher, asks[2]);
        await gaveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Patience));
        Assert.False(other.IsCompleted);
        await locked.ReleaseAsync();
        Assert.Equal(Expected(stored, asks[2]), (await other.WaitAsync(Patience)).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(Expected(stored, asks[0]), (await held.WaitAsync(Patience)).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal((2, 2), batcher.Sent); // the abandoned get was not sent
    }

    [Fact]
    public async Task The_servers_batches_share_a_small_unmultiplexed_pool_of_their_own_whatever_the_connection_string_says()
    {
        var services = fixture.Api.Services;
        var batches = services.GetRequiredKeyedService<NpgsqlDataSource>(StatementBatches.DataSourceKey);
        Assert.NotSame(services.GetRequiredService<NpgsqlDataSource>(), batches);
        Assert.Same(batches, services.GetRequiredService<GetBatcher>().DataSource);
        Assert.Same(batches, services.GetRequiredService<SetBatcher>().DataSource);
        Assert.Same(batches, services.GetRequiredService<DeleteBatcher>().DataSource);
        Assert.Same(batches, services.GetRequiredService<OwnKeysBatcher>().DataSource);
        Assert.Same(batches, services.GetRequiredService<SharedPageBatcher>().DataSource);
        Assert.Same(batches, services.GetRequiredService<UserDataApi.Intents.RetrieveBatcher>().DataSource);
        var settings = new NpgsqlConnectionStringBuilder(batches.ConnectionString);
        Assert.False(settings.Multiplexing);
        Assert.True(settings.NoResetOnClose);
        // Room for each of the six batchers' batches in flight (five of user data, the intents' retrieve), twice over
        // (batches given up on still being cancelled).
        Assert.Equal(Math.Max(4, 2 * 6 * StatementBatches.InFlight), settings.MaxPoolSize);

        await using var given = PersistenceExtensions.BuildBatchDataSource(
            ConnectionString + ";Multiplexing=true;Minimum Pool Size=20;Maximum Pool Size=100", null, batchesInFlight: 1);
        var kept = new NpgsqlConnectionStringBuilder(given.ConnectionString);
        Assert.False(kept.Multiplexing);
        Assert.Equal(4, kept.MaxPoolSize);
        Assert.Equal(4, kept.MinPoolSize);
        await using var command = given.CreateCommand("SHOW plan_cache_mode");
        Assert.Equal("force_generic_plan", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_batch_held_past_the_command_timeout_fails_its_gets_and_later_gets_go_out()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        // The gets' own data source, as the server builds it, with a one-second command timeout: a batch given up on
        // still holds its connection while it is cancelled, and the next batch must find another.
        await using var dataSource = PersistenceExtensions.BuildBatchDataSource(ConnectionString + ";Command Timeout=1", null, batchesInFlight: 1);
        await using var batcher = new GetBatcher(dataSource, maxBatchesInFlight: 1, timeout: TimeSpan.FromSeconds(1));
        await Find(batcher, asks[0]).WaitAsync(Patience);
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);

        var started = DateTime.UtcNow;
        var held = asks.Take(3).Select(ask => Find(batcher, ask)).ToList();
        foreach (var get in held)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => get.WaitAsync(Patience));
            Assert.True(failure is TimeoutException or OperationCanceledException or NpgsqlException, failure.ToString());
        }
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));
        await locked.ReleaseAsync();

        var later = await Find(batcher, asks[0]).WaitAsync(Patience);
        Assert.Equal(Expected(stored, asks[0]), later.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_get_for_a_name_holding_NUL_finds_nothing_and_does_not_fail_its_batch()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        await using var batcher = new GetBatcher(DataSource, maxBatchesInFlight: 1);
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);
        var held = Find(batcher, asks[0]);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        // Queued together, so that they would share the next batch.
        var odd = batcher.FindAsync(ByIdp("user\0x", "telegram"), ["a"], "app\0", CancellationToken.None);
        var gets = asks.Select(ask => Find(batcher, ask)).ToList();
        await locked.ReleaseAsync();

        Assert.Empty(await odd.WaitAsync(Patience));
        await held.WaitAsync(Patience);
        var answers = await Task.WhenAll(gets).WaitAsync(Patience);
        for (var i = 0; i < asks.Count; i++)
        {
            Assert.Equal(Expected(stored, asks[i]), answers[i].OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Beyond_its_bound_the_queue_refuses_a_get_at_once_and_still_answers_the_queued_ones()
    {
        var stored = await SeedAsync();
        var asks = Asks(stored);
        await using var batcher = new GetBatcher(DataSource, maxBatchesInFlight: 1, maxQueuedGets: 5);
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);
        var held = Find(batcher, asks[0]);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 1);

        var queued = asks.Skip(1).Take(5).Select(ask => Find(batcher, ask)).ToList();
        var refused = asks.Skip(6).Take(3).Select(ask => Find(batcher, ask)).ToList();

        Assert.All(refused, get => Assert.IsType<StorageQueueFullException>(get.Exception?.InnerException));
        Assert.All(queued, get => Assert.False(get.IsCompleted));
        await locked.ReleaseAsync();
        var answers = await Task.WhenAll(queued.Prepend(held)).WaitAsync(Patience);
        for (var i = 0; i < answers.Length; i++)
        {
            Assert.Equal(Expected(stored, asks[i]), answers[i].OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Over_http_a_get_beyond_the_queue_s_bound_answers_minus_4_at_once_with_its_request_id()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        await using var api = await new ApiFactory(fixture.Authority, connectionString, services: services =>
            services.AddSingleton(provider => new GetBatcher(provider.GetRequiredService<NpgsqlDataSource>(), maxBatchesInFlight: 1, maxQueuedGets: 1))).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        var batcher = api.Services.GetRequiredService<GetBatcher>();
        var token = fixture.Authority.CreateToken(UserDataFixture.NewUser());
        Task<System.Text.Json.JsonElement> Get(int requestId) =>
            client.PostAsync("get", new { request_id = requestId, identity_provider = "telegram", value_keys = new[] { "k" } }, token);
        await Get(0);
        await using var locked = await RecordsLock.HoldAsync(connectionString);

        var held = Get(1);
        await Waits.UntilAsync(() => batcher.Sent.Batches == 2);
        var queued = Get(2);
        await Waits.UntilAsync(() => batcher.Queued == 1);
        var refused = await Get(3).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(-4, refused.Result());
        Assert.Equal(3, refused.GetProperty("request_id").GetInt64());
        Assert.Empty(refused.GetProperty("values").EnumerateArray());
        Assert.False(queued.IsCompleted);
        await locked.ReleaseAsync();
        Assert.Equal(1, (await held.WaitAsync(Patience)).Result());
        Assert.Equal(1, (await queued.WaitAsync(Patience)).Result());
    }

    [Fact]
    public async Task A_get_queued_behind_hung_batches_fails_once_it_has_waited_the_command_timeout()
    {
        await using var dataSource = PersistenceExtensions.BuildDataSource(ConnectionString + ";Command Timeout=2", null);
        await using var batcher = new GetBatcher(dataSource, maxBatchesInFlight: 1, timeout: TimeSpan.FromSeconds(2));
        await Find(batcher, new Ask("warm-up", "telegram", ["k"], "app-1")).WaitAsync(Patience);
        await using var locked = await RecordsLock.HoldAsync(ConnectionString);

        // Each get fills a batch of its own, so that the last queued would otherwise wait for four hung batches.
        var keys = Enumerable.Range(0, 1000).Select(i => $"k{i}").ToArray();
        var started = DateTime.UtcNow;
        var gets = Enumerable.Range(0, 4).Select(i => batcher.FindAsync(ByIdp($"user-{i}", "telegram"), keys, "app-1", CancellationToken.None)).ToList();
        var waited = new List<TimeSpan>();
        foreach (var get in gets)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => get.WaitAsync(Patience));
            Assert.True(failure is TimeoutException or OperationCanceledException or NpgsqlException, failure.ToString());
            waited.Add(DateTime.UtcNow - started);
        }

        Assert.True(waited.Max() < TimeSpan.FromSeconds(4), $"waited {string.Join(", ", waited.Select(w => $"{w.TotalSeconds:0.0} s"))}");
    }

    private NpgsqlDataSource DataSource => fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();

    private string ConnectionString =>
        fixture.Api.Services.GetRequiredService<IConfiguration>().GetConnectionString(PersistenceExtensions.ConnectionStringName)!;

    private static Task<Dictionary<string, string>> Find(GetBatcher batcher, Ask ask) =>
        batcher.FindAsync(ByIdp(ask.User, ask.Provider), ask.Keys, ask.App, CancellationToken.None);

    /// <summary>Three users' records under two providers by two client apps, private and public.</summary>
    private async Task<List<Stored>> SeedAsync()
    {
        var stored = new List<Stored>();
        foreach (var user in Enumerable.Range(0, 3).Select(_ => UserDataFixture.NewUser()))
        {
            foreach (var provider in new[] { "telegram", "google" })
            {
                foreach (var (app, scope, key) in new[]
                         {
                             ("app-1", AccessScope.Private, "a"), ("app-1", AccessScope.Public, "b"),
                             ("app-2", AccessScope.Private, "c"), ("app-2", AccessScope.Public, "d"),
                         })
                {
                    var record = new Stored(user, provider, key, $"{user}/{provider}/{key}", scope, app);
                    await fixture.SeedAsync(record.User, record.Provider, record.Key, record.Value, record.Scope, record.App);
                    stored.Add(record);
                }
            }
        }
        return stored;
    }

    /// <summary>Every user, provider and client app, with every key, each key alone, and unknown keys.</summary>
    private static List<Ask> Asks(List<Stored> stored)
    {
        string[][] keySets = [["a", "b", "c", "d"], ["a"], ["b"], ["c"], ["d"], ["zz", "a"], ["nothing"]];
        return
        [
            .. from user in stored.Select(s => s.User).Distinct()
               from provider in new[] { "telegram", "google" }
               from app in new[] { "app-1", "app-2", "app-3" }
               from keys in keySets
               select new Ask(user, provider, keys, app),
        ];
    }

    /// <summary>What a get of its own answers: the caller's own records and other apps' public ones.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Expected(List<Stored> stored, Ask ask) =>
        stored.Where(s => s.User == ask.User && s.Provider == ask.Provider && ask.Keys.Contains(s.Key)
                          && (s.App == ask.App || s.Scope == AccessScope.Public))
            .Select(s => KeyValuePair.Create(s.Key, s.Value))
            .OrderBy(p => p.Key, StringComparer.Ordinal);

}
