using System.Diagnostics;
using System.Net;
using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace UserDataApi.Tests.Reliability;

/// <summary>
/// Two instances behind deploy/haproxy's configuration (Debian's HAProxy, installed by scripts/test.sh), under a load of
/// sets and gets: one instance is killed (SIGKILL), comes back, and later the other is stopped (SIGTERM). Only requests in
/// flight on the killed instance fail, none fails while one drains, and no acknowledged write is lost.
/// </summary>
public sealed class LoadBalancerTests(ITestOutputHelper output)
{
    private const int Loops = 6;
    private const int DrainSeconds = 2;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Behind_haproxy_a_killed_instance_fails_only_its_requests_in_flight_and_a_stopped_one_none()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();
        (string, string)[] settings =
        [
            ("ConnectionStrings__UserData", database), ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", authority.Issuer), ("Auth__RequireHttpsMetadata", "false"),
            ("Shutdown__DrainSeconds", DrainSeconds.ToString()), ("RateLimiting__Enabled", "false"),
        ];
        // One after the other: the first applies the migrations. Each on a port the system gives it, which the
        // balancer's configuration then names (a port picked beforehand could be taken by another test meanwhile).
        var first = ServerProcess.StartBuilt(settings);
        var ports = new[] { (await first.WaitUntilListeningAsync(TimeSpan.FromSeconds(60))).Port, 0 };
        await using var second = ServerProcess.StartBuilt(settings);
        ports[1] = (await second.WaitUntilListeningAsync(TimeSpan.FromSeconds(60))).Port;
        var balancerPort = ServerProcess.FreePort();
        using var haproxy = StartHaproxy(balancerPort, ports);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{balancerPort}"), Timeout = TimeSpan.FromSeconds(30) };
        // Both instances up in HAProxy's eyes: ten answers in a row through it, well past its rise time.
        var inARow = 0;
        await WaitUntilAsync(async () =>
        {
            inARow = (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK ? inARow + 1 : 0;
            await Task.Delay(100);
            return inARow >= 10;
        }, TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        var load = new TimedLoad(http, clock);
        load.Start([.. Enumerable.Range(0, Loops).Select(n => (Func<TimedLoad, Task>)(l => l.SetAndGetAsync($"{n}", authority.CreateToken(userId: $"{l.RunId}-{n}"))))]);
        await Task.Delay(Phase);
        var killedAt = clock.Elapsed;
        first.KillNow();
        await Task.Delay(Phase);
        var restartedAt = clock.Elapsed;
        await using var restarted = ServerProcess.StartBuiltAt($"http://127.0.0.1:{ports[0]}", settings);
        await restarted.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(Phase);
        var terminatedAt = clock.Elapsed;
        second.Terminate();
        var exitCode = await second.WaitForExitAsync(TimeSpan.FromSeconds(DrainSeconds + 30));
        var exitedAt = clock.Elapsed;
        await Task.Delay(Phase);
        var answers = await load.StopAsync();
        await first.DisposeAsync();

        var stored = await load.StoredAsync(database);
        var acknowledged = answers.Where(a => a.Kind == "set" && a.Outcome == "0").ToList();
        var lost = acknowledged.Count(a => stored.GetValueOrDefault((a.UserId, a.Key)).Value != a.Value);
        List<(string Name, List<TimedAnswer> Answers)> phases =
        [
            ("both up", answers.Where(a => a.Started < killedAt).ToList()),
            ("one killed", answers.Where(a => a.Started >= killedAt && a.Started < restartedAt).ToList()),
            ("killed one back", answers.Where(a => a.Started >= restartedAt && a.Started < terminatedAt).ToList()),
            ("one stopped (SIGTERM)", answers.Where(a => a.Started >= terminatedAt).ToList()),
        ];
        foreach (var (name, inPhase) in phases)
        {
            output.WriteLine($"{name}: {inPhase.Count} answers, failed: "
                             + string.Join(", ", inPhase.Where(a => !Succeeded(a)).GroupBy(a => $"{a.Kind} {a.Outcome}").Select(g => $"{g.Key} ×{g.Count()}").DefaultIfEmpty("none")));
        }
        var inFlightAtKill = answers.Where(a => !Succeeded(a) && a.Started < killedAt).ToList();
        output.WriteLine($"failed answers asked before the kill (in flight): {inFlightAtKill.Count}; the stopped instance exited {exitCode} "
                         + $"{(exitedAt - terminatedAt).TotalSeconds:F1} s after SIGTERM; {acknowledged.Count} sets acknowledged, {lost} lost");

        Assert.All(phases[0].Answers.Where(a => a.Ended < killedAt), a => Assert.True(Succeeded(a), $"{a.Kind} {a.Outcome} before the kill"));
        // Only what the killed instance held when it died fails: at most one request per caller, each asked before the kill.
        var failed = answers.Where(a => !Succeeded(a)).ToList();
        Assert.True(failed.Count <= Loops, $"{failed.Count} failed answers");
        Assert.All(failed, a => Assert.True(a.Started < killedAt && a.Ended >= killedAt, $"{a.Kind} {a.Outcome} asked at {a.Started.TotalSeconds:F2} s, kill at {killedAt.TotalSeconds:F2} s"));
        Assert.All(phases[3].Answers, a => Assert.True(Succeeded(a), $"{a.Kind} {a.Outcome} while an instance drained"));
        Assert.True(phases[3].Answers.Count > 50, "the load kept going while an instance stopped");
        Assert.Equal(0, exitCode);
        Assert.True(exitedAt - terminatedAt < TimeSpan.FromSeconds(DrainSeconds + 10), "the stopped instance took too long to exit");
        Assert.Equal(0, lost);
    }

    [Fact]
    public async Task A_stopping_instance_is_not_ready_at_once_serves_through_its_drain_and_exits_0()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var server = ServerProcess.StartBuilt(
            ("ConnectionStrings__UserData", await TestPostgres.CreateDatabaseAsync()), ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", authority.Issuer), ("Auth__RequireHttpsMetadata", "false"), ("Shutdown__DrainSeconds", "3"));
        using var http = new HttpClient { BaseAddress = await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)) };
        await WaitUntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        var token = authority.CreateToken(UserDataFixture.NewUser());
        var client = new UserDataClient(http);
        var clock = Stopwatch.StartNew();

        server.Terminate();
        await WaitUntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2));
        var notReadyAfter = clock.Elapsed;
        var live = await http.GetAsync("/health/live");
        var served = await client.PostAsync("set", new { identity_provider = "telegram", value_key = "during-the-drain", value_data = "v" }, token);
        var read = await client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "during-the-drain" } }, token);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var exitedAfter = clock.Elapsed;
        output.WriteLine($"not ready {notReadyAfter.TotalSeconds:F2} s after SIGTERM, exited {exitCode} after {exitedAfter.TotalSeconds:F2} s");

        Assert.True(notReadyAfter < TimeSpan.FromSeconds(1), $"still ready {notReadyAfter.TotalSeconds:F2} s after SIGTERM");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(0, served.Result());
        Assert.Equal(0, read.Result());
        Assert.Equal(0, exitCode);
        Assert.InRange(exitedAfter, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
    }

    private static bool Succeeded(TimedAnswer answer) => answer.Outcome is "0" or "1";

    /// <summary>HAProxy in the foreground, killed when disposed.</summary>
    private sealed class Haproxy(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
            process.Dispose();
        }
    }

    private static Haproxy StartHaproxy(int port, int[] instances)
    {
        var start = new ProcessStartInfo("/usr/sbin/haproxy", ["-f", Repository.PathOf("deploy/haproxy/haproxy.cfg"), "-db"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment["USERDATA_LB_BIND"] = $"127.0.0.1:{port}";
        start.Environment["USERDATA_API_1"] = $"127.0.0.1:{instances[0]}";
        start.Environment["USERDATA_API_2"] = $"127.0.0.1:{instances[1]}";
        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Haproxy(process);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not up yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("HAProxy did not route to a ready instance.");
    }

}
