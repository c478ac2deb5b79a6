using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using Xunit.Abstractions;

namespace UserDataApi.Tests.Reliability;

/// <summary>
/// SPEC §3, §4 and §6 while PostgreSQL goes away under load and comes back: the server process keeps
/// answering in time (-4, 503), reports itself not ready, recovers by itself, and loses no write it acknowledged.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private const int CommandTimeoutSeconds = 3;
    private const int Loops = 8;
    private static readonly TimeSpan Before = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(CommandTimeoutSeconds + 1);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(5);
    // Scheduling delay on a busy two-core machine; a request that waited on the database would go well past it.
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(CommandTimeoutSeconds + 1);

    [Fact]
    public async Task PostgreSQL_stopped_under_load_answers_minus_4_in_time_recovers_within_5_s_and_keeps_every_acknowledged_set()
    {
        await using var cluster = await LocalPostgresCluster.CreateAsync();
        await using var authority = await TestAuthority.StartAsync();
        await using var server = ServerProcess.StartBuilt(
            ("ConnectionStrings__UserData", cluster.ConnectionString($"Timeout={CommandTimeoutSeconds};Command Timeout={CommandTimeoutSeconds}")),
            ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", authority.Issuer),
            ("Auth__RequireHttpsMetadata", "false"));
        using var http = new HttpClient { BaseAddress = await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)), Timeout = TimeSpan.FromSeconds(30) };
        await WaitUntilReadyAsync(http);

        var clock = Stopwatch.StartNew();
        var load = SetGetLoad.Start(new UserDataClient(http), authority, clock);
        await Task.Delay(Before);

        var stopRequested = clock.Elapsed;
        await cluster.StopAsync();
        var stopped = clock.Elapsed;
        var (ready, readyReport) = await GetJsonAsync(http, "/health/ready");
        var (live, _) = await GetJsonAsync(http, "/health/live");
        var intentStarted = clock.Elapsed;
        var (intent, intentError) = await ListLinksAsync(http, authority.CreateToken(userId: "outage-user", scopes: "idp-intents"));
        var intentTook = clock.Elapsed - intentStarted;
        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (stopped + Outage - clock.Elapsed).Ticks)));

        var restartRequested = clock.Elapsed;
        await cluster.StartAsync();
        var restarted = clock.Elapsed;
        var recovered = await load.FirstSuccessfulSetStartedAfterAsync(restarted, RecoveryLimit + TimeSpan.FromSeconds(5));
        await Task.Delay(After);
        var (readyAgain, _) = await GetJsonAsync(http, "/health/ready");
        var answers = await load.StopAsync();
        var stored = await ReadStoredValuesAsync(cluster.ConnectionString(), load.RunId);

        var sets = answers.Where(a => a.Endpoint == "set").ToList();
        var gets = answers.Where(a => a.Endpoint == "get").ToList();
        var duringOutage = answers.Where(a => a.Started >= stopped && a.Ended <= restartRequested).ToList();
        var afterRecovery = answers.Where(a => a.Started >= recovered).ToList();
        var acknowledged = sets.Where(a => a.Result == (int)ByIdpResultCode.Success).ToList();
        Report(answers, duringOutage, stopRequested, stopped, restarted, recovered, intentTook, acknowledged, stored);

        Assert.All(sets, a => Assert.Contains(a.Result, new[] { (int)ByIdpResultCode.Success, (int)ByIdpResultCode.ServiceTemporarilyNotValid }));
        Assert.All(gets, a => Assert.Contains(a.Result, new[] { (int)ByIdpResultCode.Success, (int)ByIdpResultCode.SuccessNotFound, (int)ByIdpResultCode.ServiceTemporarilyNotValid }));
        Assert.All(answers, a => Assert.True(a.Took <= AnswerLimit, $"{a.Endpoint} took {a.Took.TotalSeconds:F2} s"));

        Assert.Contains(sets, a => a.Ended <= stopRequested);
        Assert.All(answers.Where(a => a.Ended <= stopRequested), a => Assert.NotEqual((int)ByIdpResultCode.ServiceTemporarilyNotValid, a.Result));
        Assert.True(duringOutage.Count(a => a.Endpoint == "set") >= Loops, $"only {duringOutage.Count(a => a.Endpoint == "set")} sets while PostgreSQL was down");
        Assert.All(duringOutage, a => Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, a.Result));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        Assert.Equal("Unhealthy", readyReport.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, intent);
        Assert.Equal(StatusCode.Unavailable, (StatusCode)intentError.GetProperty("code").GetInt32());
        GatewayErrorShape.AssertIdOf(intentError);
        Assert.True(intentTook <= AnswerLimit, $"the intent call took {intentTook.TotalSeconds:F2} s");

        Assert.True(recovered - restarted <= RecoveryLimit, $"the first set after the restart answered 0 after {(recovered - restarted).TotalSeconds:F2} s");
        Assert.Contains(afterRecovery, a => a.Endpoint == "set");
        Assert.All(afterRecovery, a => Assert.Equal((int)ByIdpResultCode.Success, a.Result));
        Assert.Equal(HttpStatusCode.OK, readyAgain);

        // A get that follows an acknowledged set of the same key sees that value (or answers -4).
        var setOf = sets.ToDictionary(s => (s.UserId, s.Key));
        Assert.All(gets.Where(g => g.Result != (int)ByIdpResultCode.ServiceTemporarilyNotValid && setOf[(g.UserId, g.Key)].Result == (int)ByIdpResultCode.Success),
            get => Assert.Equal(setOf[(get.UserId, get.Key)].Value, get.Value));
        Assert.All(acknowledged, a => Assert.Equal(a.Value, stored.GetValueOrDefault((a.UserId, a.Key))));
    }

    private static async Task WaitUntilReadyAsync(HttpClient http)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if ((await GetJsonAsync(http, "/health/ready")).Status == HttpStatusCode.OK)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The server did not become ready.");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ListLinksAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/users/outage-user/links/_search")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The value of every record the load's users hold, read straight from the database.</summary>
    private static async Task<Dictionary<(string UserId, string Key), string>> ReadStoredValuesAsync(string connectionString, string runId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT user_id, value_key, value_data FROM user_data_records WHERE user_id LIKE $1 AND identity_provider = 'telegram'", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = runId + "-%" });
        var stored = new Dictionary<(string, string), string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            stored[(reader.GetString(0), reader.GetString(1))] = reader.GetString(2);
        }
        return stored;
    }

    private void Report(
        IReadOnlyList<Answer> answers, IReadOnlyList<Answer> duringOutage, TimeSpan stopRequested, TimeSpan stopped, TimeSpan restarted,
        TimeSpan recovered, TimeSpan intentTook, IReadOnlyList<Answer> acknowledged, Dictionary<(string, string), string> stored)
    {
        var outageTimes = duringOutage.Select(a => a.Took.TotalMilliseconds).Order().ToArray();
        var lostAnswers = answers.Count(a => a.Endpoint == "set" && a.Result != (int)ByIdpResultCode.Success && stored.ContainsKey((a.UserId, a.Key)));
        output.WriteLine($"{answers.Count} answers; PostgreSQL stopping took {(stopped - stopRequested).TotalSeconds:F2} s");
        output.WriteLine($"while down: {duringOutage.Count} answers, all -4 expected; median {Percentile(outageTimes, 0.5):F0} ms, max {outageTimes.LastOrDefault():F0} ms; intent call {intentTook.TotalMilliseconds:F0} ms");
        output.WriteLine($"recovery: first set answered 0 {(recovered - restarted).TotalSeconds:F2} s after PostgreSQL accepted connections again");
        output.WriteLine($"{acknowledged.Count} sets answered 0, {stored.Count} records stored; {lostAnswers} sets stored although not answered 0");
    }

    private static double Percentile(double[] sorted, double fraction) => sorted.Length == 0 ? 0 : sorted[(int)(fraction * (sorted.Length - 1))];

    private sealed record Answer(string Endpoint, string UserId, string Key, string? Value, int Result, TimeSpan Started, TimeSpan Ended)
    {
        public TimeSpan Took => Ended - Started;
    }

    /// <summary>
    /// <see cref="Loops"/> callers, each its own user, that set a new key and read it back, over and over;
    /// every answer is kept with when it was asked and answered.
    /// </summary>
    private sealed class SetGetLoad
    {
        private readonly ConcurrentQueue<Answer> _answers = new();
        private readonly UserDataClient _client;
        private readonly TestAuthority _authority;
        private readonly Stopwatch _clock;
        private volatile bool _stopping;
        private Task _loops = Task.CompletedTask;

        private SetGetLoad(UserDataClient client, TestAuthority authority, Stopwatch clock)
        {
            _client = client;
            _authority = authority;
            _clock = clock;
        }

        /// <summary>Prefix of the load's user ids, so that the database can be searched for exactly its records.</summary>
        public string RunId { get; } = "outage-" + Guid.NewGuid().ToString("N");

        public static SetGetLoad Start(UserDataClient client, TestAuthority authority, Stopwatch clock)
        {
            var load = new SetGetLoad(client, authority, clock);
            load._loops = Task.WhenAll(Enumerable.Range(0, Loops).Select(loop => Task.Run(() => load.RunAsync($"{load.RunId}-{loop}"))));
            return load;
        }

        /// <summary>When the first set asked after <paramref name="after"/> was answered 0.</summary>
        public async Task<TimeSpan> FirstSuccessfulSetStartedAfterAsync(TimeSpan after, TimeSpan timeout)
        {
            var deadline = _clock.Elapsed + timeout;
            while (_clock.Elapsed < deadline)
            {
                var first = _answers.Where(a => a.Endpoint == "set" && a.Started >= after && a.Result == (int)ByIdpResultCode.Success).Select(a => a.Ended).DefaultIfEmpty(TimeSpan.MaxValue).Min();
                if (first != TimeSpan.MaxValue)
                {
                    return first;
                }
                await Task.Delay(50);
            }
            throw new TimeoutException($"No set answered 0 within {timeout} after PostgreSQL came back.");
        }

        /// <summary>Lets every caller finish its request in flight, then returns all answers.</summary>
        public async Task<IReadOnlyList<Answer>> StopAsync()
        {
            _stopping = true;
            await _loops;
            return _answers.ToList();
        }

        private async Task RunAsync(string userId)
        {
            var token = _authority.CreateToken(userId: userId);
            for (var n = 0; !_stopping; n++)
            {
                var key = $"k{n}";
                var value = $"{userId}-{n}";
                var started = _clock.Elapsed;
                var set = await _client.PostAsync("set", new { identity_provider = "telegram", value_key = key, value_data = value }, token);
                _answers.Enqueue(new Answer("set", userId, key, value, set.Result(), started, _clock.Elapsed));

                started = _clock.Elapsed;
                var get = await _client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { key } }, token);
                var read = get.Result() == (int)ByIdpResultCode.Success ? get.GetProperty("values")[0].GetProperty("value_data").GetString() : null;
                _answers.Enqueue(new Answer("get", userId, key, read, get.Result(), started, _clock.Elapsed));
                await Task.Delay(10);
            }
        }
    }
}
