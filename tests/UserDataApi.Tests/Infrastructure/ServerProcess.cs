using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The server run as its own process, the way an operator (the built <c>UserDataApi.dll</c>) or a newcomer
/// (<c>scripts/run.sh</c>) starts it, with its output collected line by line.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private ServerProcess(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => Collect(_output, line.Data);
        _process.ErrorDataReceived += (_, line) => Collect(_errors, line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyCollection<string> OutputLines => _output;

    public IReadOnlyCollection<string> ErrorLines => _errors;

    /// <summary>The test build's <c>UserDataApi.dll</c> in environment Production on a free port of 127.0.0.1, with these variables.</summary>
    public static ServerProcess StartBuilt(params (string Name, string Value)[] environment) => StartBuiltAt("http://127.0.0.1:0", environment);

    /// <summary>The test build on <paramref name="database"/>, which it migrates at start, trusting <paramref name="authority"/>; plain console lines.</summary>
    public static ServerProcess StartMigrating(TestAuthority authority, string database) => StartBuilt(
        ("ConnectionStrings__UserData", database), ("Database__MigrateOnStartup", "true"),
        ("Auth__Authority", authority.Issuer), ("Auth__RequireHttpsMetadata", "false"), ("Logging__Console__FormatterName", "simple"));

    /// <summary>The same, listening on <paramref name="url"/> (a load balancer's configuration names the address beforehand).</summary>
    public static ServerProcess StartBuiltAt(string url, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "UserDataApi.dll"), "--urls", url])
        {
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return new ServerProcess(WithVariables(start, environment));
    }

    /// <summary>SIGTERM, as an orchestrator stops a container.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();

    /// <summary>SIGKILL: the instance is gone at once, requests in flight and all.</summary>
    public void KillNow() => _process.Kill();

    /// <summary>A port of 127.0.0.1 that nothing listens on just now, for a listener whose address a test must know beforehand.</summary>
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A script of the repository, run from its root, with these variables.</summary>
    public static ServerProcess StartScript(string script, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, script)]) { WorkingDirectory = Repository.Root };
        return new ServerProcess(WithVariables(start.WithoutTestRunMsBuild(), environment));
    }

    /// <summary>Waits for the "Now listening on" line and returns that address.</summary>
    public async Task<Uri> WaitUntilListeningAsync(TimeSpan timeout)
    {
        var line = await WaitForOutputAsync(line => line.Contains("Now listening on") && ListeningAddress().IsMatch(line), timeout);
        return new Uri(ListeningAddress().Match(line).Value);
    }

    public async Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_output.FirstOrDefault(match) is { } line)
            {
                return line;
            }
            if (_process.HasExited)
            {
                break;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"No such line within {timeout} (exited: {_process.HasExited}).\n{string.Join('\n', _output)}\n{string.Join('\n', _errors)}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static ProcessStartInfo WithVariables(ProcessStartInfo start, (string Name, string Value)[] environment)
    {
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        return start;
    }

    private static void Collect(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }

    [GeneratedRegex(@"http://[\w.\[\]:]+:\d+")]
    private static partial Regex ListeningAddress();
}
