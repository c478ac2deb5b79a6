using System.Diagnostics;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own, run from the local server binaries by
/// <c>scripts/local-postgres.sh</c> (as the <c>postgres</c> user when the tests run as root), which the
/// test can stop and start again on the same data directory and port to take the database away.
/// </summary>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private const string ServerOptions = "-c fsync=off";

    private readonly string _dataDirectory;

    private LocalPostgresCluster(string dataDirectory, int port)
    {
        _dataDirectory = dataDirectory;
        Port = port;
    }

    public int Port { get; private set; }

    /// <summary>The cluster's <c>postgres</c> database as its superuser, with these extra settings (e.g. <c>Timeout=3</c>).</summary>
    public string ConnectionString(string extraSettings = "") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;{extraSettings}";

    /// <summary>
    /// Initialises a cluster in a new temporary directory and starts it on a free port; on another free port when the
    /// first was taken before PostgreSQL could bind it (by another test's listener: ports are picked, not held).
    /// </summary>
    public static async Task<LocalPostgresCluster> CreateAsync()
    {
        var cluster = new LocalPostgresCluster(Directory.CreateTempSubdirectory("userdataapi-outage-pg.").FullName, 0);
        for (var start = 1; ; start++)
        {
            cluster.Port = int.Parse(await RunScriptAsync("free_port"));
            try
            {
                await cluster.StartAsync();
                return cluster;
            }
            catch (InvalidOperationException exception) when (start < 3 && exception.Message.Contains("Address already in use"))
            {
                // Started again below, on another port.
            }
        }
    }

    /// <summary>Starts the cluster and returns once it accepts connections.</summary>
    public Task StartAsync() => RunScriptAsync("start_local_postgres \"$1\" \"$2\" \"$3\"", _dataDirectory, Port.ToString(), ServerOptions);

    /// <summary>Stops the cluster as an operator would (fast shutdown: sessions are ended, open transactions roll back).</summary>
    public Task StopAsync() => RunScriptAsync("stop_local_postgres \"$1\"", _dataDirectory);

    /// <summary>
    /// Freezes the cluster as a stuck volume or a paused VM would: SIGSTOP to the postmaster and every backend, so that
    /// connections stay open and nothing answers. <see cref="ContinueAsync"/> lets it run on.
    /// </summary>
    public Task FreezeAsync() => SignalAllAsync("STOP");

    public Task ContinueAsync() => SignalAllAsync("CONT");

    private Task SignalAllAsync(string signal) => RunScriptAsync(
        "pid=$(head -n 1 \"$1/postmaster.pid\") && kill -\"$2\" \"$pid\" && pkill -\"$2\" -P \"$pid\"; true", _dataDirectory, signal);

    public async ValueTask DisposeAsync()
    {
        await ContinueAsync();
        await StopAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>Runs one function of local-postgres.sh (its arguments passed as $1, $2, …) and returns its output.</summary>
    private static async Task<string> RunScriptAsync(string call, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", "source scripts/local-postgres.sh && " + call, "bash", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"local-postgres.sh: '{call}' failed with exit code {process.ExitCode}: {await errors}");
        }
        return (await output).Trim();
    }
}
