using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

/// <summary>How an instance stops on SIGTERM (configuration section <c>Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// Seconds between SIGTERM and closing the listener, while <c>/health/ready</c> already answers 503 and requests are
    /// still served: behind a load balancer, longer than it takes to see the instance as down, so that it sends nothing
    /// more to a closed port.
    /// </summary>
    public int DrainSeconds { get; set; }

    /// <summary>Seconds that requests in flight, and gets waiting for their batch, get to finish once the listener is closed.</summary>
    public int TimeoutSeconds { get; set; } = 30;
}

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) => SettingRules.Result(
    [
        SettingRules.Between($"{ShutdownOptions.Section}:{nameof(ShutdownOptions.DrainSeconds)}", options.DrainSeconds, 0, 300),
        SettingRules.Between($"{ShutdownOptions.Section}:{nameof(ShutdownOptions.TimeoutSeconds)}", options.TimeoutSeconds, 1, 600),
    ]);
}

public static class GracefulShutdownSetup
{
    public static WebApplicationBuilder AddGracefulShutdown(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShutdownOptions>().Bind(builder.Configuration.GetSection(ShutdownOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();
        // The host's shutdown timeout runs from SIGTERM: the drain, then the time for requests in flight. Read from the
        // settings as written (the host reads it before start-up's checks, which report a bad value in one line).
        var section = builder.Configuration.GetSection(ShutdownOptions.Section);
        var defaults = new ShutdownOptions();
        var drain = int.TryParse(section[nameof(ShutdownOptions.DrainSeconds)], out var seconds) ? Math.Clamp(seconds, 0, 300) : defaults.DrainSeconds;
        var timeout = int.TryParse(section[nameof(ShutdownOptions.TimeoutSeconds)], out seconds) ? Math.Clamp(seconds, 1, 600) : defaults.TimeoutSeconds;
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(drain + timeout));
        builder.Services.AddSingleton<GracefulShutdown>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<GracefulShutdown>());
        builder.Services.AddHealthChecks().AddCheck<GracefulShutdown>("not-stopping", tags: [HealthEndpoints.ReadinessTag]);
        return builder;
    }
}

/// <summary>
/// On SIGTERM: readiness turns 503 at once, requests are served for <c>Shutdown:DrainSeconds</c> more, then the
/// listener closes, requests in flight finish (within <c>Shutdown:TimeoutSeconds</c>) and the process exits 0.
/// </summary>
public sealed class GracefulShutdown(IOptions<ShutdownOptions> options, ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _stopping;

    /// <summary>Runs before any server stops (the listener included): the drain.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var drain = TimeSpan.FromSeconds(options.Value.DrainSeconds);
        logger.LogInformation("Stopping: not ready any more; serving for {DrainSeconds} s, then finishing requests in flight", drain.TotalSeconds);
        if (drain > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(drain, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The shutdown timeout ran out first.
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_stopping ? HealthCheckResult.Unhealthy("The instance is stopping.") : HealthCheckResult.Healthy());

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
