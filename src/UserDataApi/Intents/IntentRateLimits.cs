using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;
using UserDataApi.Intents.Transports;

namespace UserDataApi.Intents;

/// <summary>
/// The rate limits of the intent calls (SPEC §4, <c>RateLimiting:*</c>): every intent route, the provider callback
/// included, within its IP address's window, checked before anything else; the calls with a token also within
/// their client app's window (<c>azp</c>, else <c>client_id</c>). Refused: 429 with <c>Retry-After</c>.
/// Behind a proxy, the IP is the caller's only when forwarded headers are trusted from it.
/// </summary>
public sealed class IntentRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _perIp;
    private readonly PartitionedRateLimiter<string>? _perClientApp;
    private readonly PartitionedRateLimiter<string>? _perUsername;

    public IntentRateLimits(IOptions<RateLimitingOptions> options, IHostEnvironment environment)
    {
        var settings = options.Value;
        if (!settings.IsEnabled(environment))
        {
            return;
        }
        var window = TimeSpan.FromSeconds(settings.WindowSeconds);
        _perIp = FixedWindows(settings.PermitsPerIp, window);
        _perClientApp = FixedWindows(settings.PermitsPerClientApp, window);
        _perUsername = FixedWindows(settings.PasswordAttemptsPerUsername, window);
    }

    /// <summary>Takes a permit of the caller's address; when none is left, how long until one is.</summary>
    public TimeSpan? RefuseAddress(HttpContext http) => Take(_perIp, http.Connection.RemoteIpAddress?.ToString() ?? "");

    /// <summary>Takes a permit of the client app; when none is left, how long until one is.</summary>
    public TimeSpan? RefuseClientApp(string clientAppId) => Take(_perClientApp, clientAppId);

    /// <summary>
    /// Takes a password attempt of a username at a provider (SPEC §4.4: guessing is limited per username too, not
    /// only per address); when none is left, how long until one is. Usernames compare without case, as directories do.
    /// </summary>
    public TimeSpan? RefuseUsername(string idpId, string username) => Take(_perUsername, $"{idpId}\n{username.ToUpperInvariant()}");

    private static TimeSpan? Take(PartitionedRateLimiter<string>? limiter, string key)
    {
        if (limiter is null)
        {
            return null;
        }
        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.Zero;
    }

    private static PartitionedRateLimiter<string> FixedWindows(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 }));

    public void Dispose()
    {
        _perIp?.Dispose();
        _perClientApp?.Dispose();
        _perUsername?.Dispose();
    }
}

/// <summary>The per-IP window of <see cref="IntentRateLimits"/>, on every intent route, before the token is looked at.</summary>
public sealed class IntentAddressLimitFilter(IntentRateLimits limits) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        limits.RefuseAddress(context.HttpContext) is { } retryAfter
            ? IntentFailures.TooManyRequests(retryAfter).ToRest(context.HttpContext)
            : await next(context);
}
