using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using UserDataApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace UserDataApi.Tests.Reliability;

/// <summary>
/// A PostgreSQL that hangs instead of dying (SPEC §6, issue 18): frozen with SIGSTOP, or cut off by a proxy that stops
/// forwarding without closing, under a load of sets, gets, lists, intent calls and readiness probes. Every answer comes
/// within the command timeout + 1 s, the service recovers on its own, and no write is lost or appears unasked.
/// </summary>
public sealed class DatabaseHangTests(ITestOutputHelper output)
{
    private const int CommandTimeoutSeconds = 2;
    private static readonly TimeSpan Before = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(4 * CommandTimeoutSeconds);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(5);
    // The contract's limit (deadline + 1 s), and half a second more for a busy two-core machine's scheduling.
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(CommandTimeoutSeconds + 1.5);

    public static TheoryData<string, bool> Hangs => new()
    {
        { "frozen", true },
        { "frozen", false },
        { "partitioned", true },
        { "partitioned", false },
    };

    [Theory]
    [MemberData(nameof(Hangs))]
    public async Task A_hung_database_answers_every_call_within_the_deadline_recovers_and_loses_or_invents_no_write(string hang, bool multiplexing)
    {
        await using var cluster = await LocalPostgresCluster.CreateAsync();
        await using var proxy = new StallingProxy(cluster.Port);
        await using var authority = await TestAuthority.StartAsync();
        var port = hang == "partitioned" ? proxy.Port : cluster.Port;
        await using var server = ServerProcess.StartBuilt(
            ("ConnectionStrings__UserData", $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Command Timeout={CommandTimeoutSeconds};Multiplexing={multiplexing}"),
            ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", authority.Issuer),
            ("Auth__RequireHttpsMetadata", "false"),
            // The load's intent calls come from one address, far more often than its per-address limit allows.
            ("RateLimiting__Enabled", "false"));
        using var http = new HttpClient { BaseAddress = await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilReadyAsync(http);

        var clock = Stopwatch.StartNew();
        var load = MixedLoad.Start(http, authority, clock);
        await Task.Delay(Before);
        var hangStarted = clock.Elapsed;
        if (hang == "frozen")
        {
            await cluster.FreezeAsync();
        }
        else
        {
            proxy.Stall();
        }
        await Task.Delay(Hang);
        var hangEnded = clock.Elapsed;
        if (hang == "frozen")
        {
            await cluster.ContinueAsync();
        }
        else
        {
            proxy.Resume();
        }
        var recovered = await load.FirstSuccessAfterAsync("set", hangEnded, RecoveryLimit + TimeSpan.FromSeconds(10));
        await Task.Delay(After);
        var answers = await load.StopAsync();
        var stored = await ReadStoredValuesAsync(cluster.ConnectionString(), load.RunId);

        var during = answers.Where(a => a.Started >= hangStarted + TimeSpan.FromMilliseconds(200) && a.Ended <= hangEnded).ToList();
        var sets = answers.Where(a => a.Kind == "set").ToList();
        var acknowledged = sets.Where(a => a.Outcome == "0").ToList();
        var lost = acknowledged.Count(a => stored.GetValueOrDefault((a.UserId, a.Key)).Value != a.Value);
        var refusedButStored = sets.Where(a => a.Outcome != "0" && stored.GetValueOrDefault((a.UserId, a.Key)).Value == a.Value).ToList();
        // A refused set that PostgreSQL committed as the hang began (its answer was what the hang held back) is not a
        // phantom; one written after its caller was told -4 (once the hang was over) would be.
        var phantoms = refusedButStored.Count(a => stored[(a.UserId, a.Key)].WrittenAt > a.AnsweredAt);
        var slowest = answers.MaxBy(a => a.Took)!;
        output.WriteLine($"{hang}, multiplexing {multiplexing}: {answers.Count} answers; during the hang {during.Count}: "
                         + string.Join(", ", during.GroupBy(a => $"{a.Kind} {a.Outcome}").OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")));
        output.WriteLine($"slowest answer: {slowest.Kind} {slowest.Took.TotalSeconds:F2} s (limit {AnswerLimit.TotalSeconds:F1} s); "
                         + $"recovery: first set answered 0 {(recovered - hangEnded).TotalSeconds:F2} s after the hang ended");
        foreach (var late in answers.Where(a => a.Took > AnswerLimit))
        {
            output.WriteLine($"over the limit: {late.Kind} {late.Outcome}, asked {(late.Started - hangStarted).TotalSeconds:F2} s after the hang began, took {late.Took.TotalSeconds:F2} s");
        }
        output.WriteLine($"{acknowledged.Count} sets acknowledged, {lost} of them lost; {sets.Count - acknowledged.Count} refused, "
                         + $"{refusedButStored.Count - phantoms} of them committed before they were refused (the answer held back), {phantoms} written after (phantoms)");

        Assert.All(answers, a => Assert.True(a.Took <= AnswerLimit, $"{a.Kind} answered {a.Outcome} after {a.Took.TotalSeconds:F2} s"));
        foreach (var kind in new[] { "set", "get", "list-get", "intent", "ready" })
        {
            Assert.Contains(during, a => a.Kind == kind);
        }
        Assert.All(during.Where(a => a.Kind is "set" or "get" or "list-get"), a => Assert.Equal("-4", a.Outcome));
        Assert.All(during.Where(a => a.Kind == "intent"), a => Assert.Equal("503", a.Outcome));
        Assert.All(during.Where(a => a.Kind == "ready"), a => Assert.Equal("503", a.Outcome));
        Assert.True(recovered - hangEnded <= RecoveryLimit, $"the first set after the hang answered 0 after {(recovered - hangEnded).TotalSeconds:F2} s");
        Assert.All(answers.Where(a => a.Started >= recovered), a => Assert.Contains(a.Outcome, new[] { "0", "1", "200" }));
        Assert.Equal(0, lost);
        Assert.Equal(0, phantoms);
    }

    private static async Task WaitUntilReadyAsync(HttpClient http)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var response = await http.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The server did not become ready.");
    }

    private static async Task<Dictionary<(string UserId, string Key), (string Value, DateTime WrittenAt)>> ReadStoredValuesAsync(string connectionString, string runId)
    {
        var stored = new Dictionary<(string, string), (string, DateTime)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT user_id, value_key, value_data, updated_at FROM user_data_records WHERE user_id LIKE $1 AND family = 0", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = runId + "-%" });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            stored[(reader.GetString(0), reader.GetString(1))] = (reader.GetString(2), reader.GetDateTime(3));
        }
        return stored;
    }

    private sealed record Answer(string Kind, string UserId, string Key, string? Value, string Outcome, TimeSpan Started, TimeSpan Ended, DateTime AnsweredAt)
    {
        public TimeSpan Took => Ended - Started;
    }

    /// <summary>
    /// Callers that each do one kind of call over and over, so that every kind keeps being asked throughout the hang: three
    /// that set a new key and get it back (each its own user), one that lists, one that calls the intents, one that probes readiness.
    /// </summary>
    private sealed class MixedLoad
    {
        private readonly ConcurrentQueue<Answer> _answers = new();
        private readonly HttpClient _http;
        private readonly TestAuthority _authority;
        private readonly Stopwatch _clock;
        private volatile bool _stopping;
        private Task _loops = Task.CompletedTask;

        private MixedLoad(HttpClient http, TestAuthority authority, Stopwatch clock)
        {
            _http = http;
            _authority = authority;
            _clock = clock;
        }

        public string RunId { get; } = "hang-" + Guid.NewGuid().ToString("N");

        public static MixedLoad Start(HttpClient http, TestAuthority authority, Stopwatch clock)
        {
            var load = new MixedLoad(http, authority, clock);
            load._loops = Task.WhenAll(
                Enumerable.Range(0, 3).Select(loop => Task.Run(() => load.SetAndGetAsync($"{load.RunId}-{loop}")))
                    .Append(Task.Run(() => load.RepeatAsync("list-get", $"{load.RunId}-list", token => load.UserDataAsync("by-user-id/list-get", new { }, token))))
                    .Append(Task.Run(() => load.RepeatAsync("intent", $"{load.RunId}-intent", token => load.StatusAsync(HttpMethod.Post, $"/v2/users/{load.RunId}-intent/links/_search", token), "idp-intents")))
                    .Append(Task.Run(() => load.RepeatAsync("ready", $"{load.RunId}-ready", _ => load.StatusAsync(HttpMethod.Get, "/health/ready", null)))));
            return load;
        }

        public async Task<TimeSpan> FirstSuccessAfterAsync(string kind, TimeSpan after, TimeSpan timeout)
        {
            var deadline = _clock.Elapsed + timeout;
            while (_clock.Elapsed < deadline)
            {
                var first = _answers.Where(a => a.Kind == kind && a.Started >= after && a.Outcome == "0").Select(a => a.Ended).DefaultIfEmpty(TimeSpan.MaxValue).Min();
                if (first != TimeSpan.MaxValue)
                {
                    return first;
                }
                await Task.Delay(50);
            }
            throw new TimeoutException($"No {kind} answered 0 within {timeout} after the hang ended.");
        }

        public async Task<IReadOnlyList<Answer>> StopAsync()
        {
            _stopping = true;
            await _loops;
            return _answers.ToList();
        }

        private async Task SetAndGetAsync(string userId)
        {
            var token = _authority.CreateToken(userId: userId);
            for (var n = 0; !_stopping; n++)
            {
                var key = $"k{n}";
                var value = $"{userId}-{n}";
                await TimedAsync("set", userId, key, value, () => UserDataAsync("by-idp/set", new { identity_provider = "telegram", value_key = key, value_data = value }, token));
                await TimedAsync("get", userId, key, null, () => UserDataAsync("by-idp/get", new { identity_provider = "telegram", value_keys = new[] { key } }, token));
            }
        }

        private async Task RepeatAsync(string kind, string userId, Func<string, Task<string>> call, string scopes = "email user-data-get user-data-set")
        {
            var token = _authority.CreateToken(userId: userId, scopes: scopes);
            while (!_stopping)
            {
                await TimedAsync(kind, userId, "", null, () => call(token));
            }
        }

        private async Task<string> TimedAsync(string kind, string userId, string key, string? value, Func<Task<string>> call)
        {
            var started = _clock.Elapsed;
            string outcome;
            try
            {
                outcome = await call();
            }
            catch (Exception exception)
            {
                outcome = exception.GetType().Name;
            }
            _answers.Enqueue(new Answer(kind, userId, key, value, outcome, started, _clock.Elapsed, DateTime.UtcNow));
            return outcome;
        }

        private async Task<string> UserDataAsync(string path, object body, string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/user-data/" + path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.GetProperty("result").GetInt32().ToString() : $"HTTP {(int)response.StatusCode}";
        }

        private async Task<string> StatusAsync(HttpMethod method, string path, string? token)
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            using var response = await _http.SendAsync(request);
            return ((int)response.StatusCode).ToString();
        }
    }
}
