using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using UserDataApi.Auth;
using UserDataApi.Intents;

namespace UserDataApi.Hosting;

/// <summary>The rate limits of the intent calls (configuration section <c>RateLimiting</c>).</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Unset: on, except in Development.</summary>
    public bool? Enabled { get; set; }

    public int WindowSeconds { get; set; } = 60;
    public int PermitsPerClientApp { get; set; } = 600;
    public int PermitsPerIp { get; set; } = 120;
}

/// <summary>
/// Rate limits for the intent calls (SPEC §4): a request to a route that requires <see cref="Intents"/>
/// must fit both in its client app's window (the token's <c>azp</c>, else <c>client_id</c>) and in its
/// IP address's window. Refused requests get 429 with the gateway's error body and <c>Retry-After</c>.
/// </summary>
/// <remarks>
/// The named policy can hold one partition only, so it limits per client app, and the global limiter
/// adds the per-IP window to exactly the routes that require the policy. Behind a proxy, set
/// <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c> so that the IP is the caller's, not the proxy's.
/// </remarks>
public static class RateLimits
{
    /// <summary>The policy the intent routes require: <c>.RequireRateLimiting(RateLimits.Intents)</c>.</summary>
    public const string Intents = "intents";

    private static readonly RateLimitPartition<string> NoLimit = RateLimitPartition.GetNoLimiter("");

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        var settings = SettingsOf(builder.Configuration);
        var window = TimeSpan.FromSeconds(settings.WindowSeconds);

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = WriteRejectionAsync;
            limiter.AddPolicy(Intents, http =>
                TokenChecker.Checked(http)?.Caller is { } caller
                    ? FixedWindow("client-app:" + caller.ClientAppId, settings.PermitsPerClientApp, window)
                    : NoLimit);
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                RequiresIntentLimits(http)
                    ? FixedWindow("ip:" + http.Connection.RemoteIpAddress, settings.PermitsPerIp, window)
                    : NoLimit);
        });
        return builder;
    }

    /// <summary>
    /// Checks the bearer token of limited calls first (the outcome stays on the request for the
    /// endpoint's own check), so that the limiter knows the client app. Adds nothing when the limits are off.
    /// </summary>
    public static WebApplication UseRateLimits(this WebApplication app)
    {
        if (!(SettingsOf(app.Configuration).Enabled ?? !app.Environment.IsDevelopment()))
        {
            return app;
        }
        app.Use(async (http, next) =>
        {
            if (RequiresIntentLimits(http))
            {
                await http.RequestServices.GetRequiredService<TokenChecker>().CheckAsync(http);
            }
            await next(http);
        });
        app.UseRateLimiter();
        return app;
    }

    private static RateLimitingOptions SettingsOf(IConfiguration configuration) =>
        configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new RateLimitingOptions();

    private static bool RequiresIntentLimits(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == Intents;

    private static RateLimitPartition<string> FixedWindow(string key, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 });

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var response = rejected.HttpContext.Response;
        if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }
        await IntentErrors.ResourceExhausted("too many requests").ExecuteAsync(rejected.HttpContext);
    }
}
