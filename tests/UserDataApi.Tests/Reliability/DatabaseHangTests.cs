using System.Diagnostics;
using System.Net;
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
        var load = new TimedLoad(http, clock);
        var intentUser = $"{load.RunId}-intent";
        var intentToken = authority.CreateToken(userId: intentUser, scopes: "idp-intents");
        var listToken = authority.CreateToken(userId: $"{load.RunId}-list");
        // Another client app's public key, so that a shared page of one is full and hands out a cursor (which caches its key).
        Assert.Equal("0", await load.UserDataAsync("by-user-id/set", new { value_key = "shared", value_data = "v", access_scope = 1 },
            authority.CreateToken(userId: $"{load.RunId}-list", clientApp: "app-2")));
        // Every kind keeps being asked throughout the hang: three callers set and get, one lists its own keys and one the
        // shared ones (queued on its batcher, once the cursors' key is cached before the hang), one calls the intents, one probes readiness.
        load.Start(
            l => l.SetAndGetAsync("a", authority.CreateToken(userId: $"{l.RunId}-a")),
            l => l.SetAndGetAsync("b", authority.CreateToken(userId: $"{l.RunId}-b")),
            l => l.SetAndGetAsync("c", authority.CreateToken(userId: $"{l.RunId}-c")),
            l => l.RepeatAsync("list-get", () => l.UserDataAsync("by-user-id/list-get", new { }, listToken)),
            l => l.RepeatAsync("shared-list-get", () => l.UserDataAsync("by-user-id/shared-list-get", new { page_size = 1 }, listToken)),
            l => l.RepeatAsync("intent", () => l.StatusAsync(HttpMethod.Post, $"/v2/users/{intentUser}/links/_search", intentToken)),
            l => l.RepeatAsync("ready", () => l.StatusAsync(HttpMethod.Get, "/health/ready", null)));
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
        var stored = await load.StoredAsync(cluster.ConnectionString());

        var during = answers.Where(a => a.Started >= hangStarted + TimeSpan.FromMilliseconds(200) && a.Ended <= hangEnded).ToList();
        var sets = answers.Where(a => a.Kind == "set").ToList();
        var acknowledged = sets.Where(a => a.Outcome == "0").ToList();
        var lost = acknowledged.Count(a => stored.GetValueOrDefault((a.UserId, a.Key)).Value != a.Value);
        var refusedButStored = sets.Where(a => a.Outcome != "0" && stored.GetValueOrDefault((a.UserId, a.Key)).Value == a.Value).ToList();
        // A refused set that PostgreSQL committed as the hang began (its answer was what the hang held back) is not a
        // phantom; one written after its caller was told -4 (once the hang was over) would be.
        var phantoms = refusedButStored.Count(a => stored[(a.UserId, a.Key)].WrittenAt > a.AnsweredAt);
        var slowest = answers.MaxBy(a => a.Ended - Max(a.Started, hangStarted))!;
        output.WriteLine($"{hang}, multiplexing {multiplexing}: {answers.Count} answers; during the hang {during.Count}: "
                         + string.Join(", ", during.GroupBy(a => $"{a.Kind} {a.Outcome}").OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")));
        output.WriteLine($"slowest answer: {slowest.Kind} {(slowest.Ended - Max(slowest.Started, hangStarted)).TotalSeconds:F2} s (limit {AnswerLimit.TotalSeconds:F1} s); "
                         + $"recovery: first set answered 0 {(recovered - hangEnded).TotalSeconds:F2} s after the hang ended");
        foreach (var late in answers.Where(a => a.Ended - Max(a.Started, hangStarted) > AnswerLimit))
        {
            output.WriteLine($"over the limit: {late.Kind} {late.Outcome}, asked {(late.Started - hangStarted).TotalSeconds:F2} s after the hang began, took {late.Took.TotalSeconds:F2} s");
        }
        output.WriteLine($"{acknowledged.Count} sets acknowledged, {lost} of them lost; {sets.Count - acknowledged.Count} refused, "
                         + $"{refusedButStored.Count - phantoms} of them committed before they were refused (the answer held back), {phantoms} written after (phantoms)");

        // Timed from when it was asked, or from when the database hung if that came later (the deadline is the storage work's).
        Assert.All(answers, a => Assert.True(a.Ended - Max(a.Started, hangStarted) <= AnswerLimit,
            $"{a.Kind} answered {a.Outcome} {(a.Ended - Max(a.Started, hangStarted)).TotalSeconds:F2} s after it was asked or the database hung"));
        foreach (var kind in new[] { "set", "get", "list-get", "shared-list-get", "intent", "ready" })
        {
            Assert.Contains(during, a => a.Kind == kind);
        }
        Assert.All(during.Where(a => a.Kind is "set" or "get" or "list-get" or "shared-list-get"), a => Assert.Equal("-4", a.Outcome));
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


    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
