using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;

namespace UserDataApi.Auth;

/// <summary>
/// Counts the forged tokens (bad signature, issuer, audience, form: not expired ones) of each IP address in fixed
/// windows. Past its limit, an address's tokens are refused unread, before any signature check, until the window
/// ends; tokens that already passed (those in <see cref="ValidatedTokenCache"/>) are not affected. Bounds what a flood
/// of forged tokens costs, on every family. Behind a proxy, every caller has the proxy's address unless forwarded
/// headers are trusted from that proxy.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public FailedAuthentications(IOptions<RateLimitingOptions> options, IHostEnvironment environment)
    {
        var settings = options.Value;
        if (!settings.IsEnabled(environment))
        {
            return;
        }
        var limit = new FixedWindowRateLimiterOptions
        {
            PermitLimit = settings.FailedAuthenticationsPerIp,
            Window = TimeSpan.FromSeconds(settings.WindowSeconds),
            QueueLimit = 0,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetFixedWindowLimiter(ip, _ => limit));
    }

    /// <summary>When the address of <paramref name="http"/> has used up its failures: how long until it may try again.</summary>
    public TimeSpan? Refusal(HttpContext http)
    {
        if (_limiter is null)
        {
            return null;
        }
        // Asking for no permit only looks: it fails exactly when none is left.
        using var lease = _limiter.AttemptAcquire(AddressOf(http), 0);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.Zero;
    }

    public void Record(HttpContext http) => _limiter?.AttemptAcquire(AddressOf(http)).Dispose();

    /// <summary>The caller's address; IPv6 by its /64 network, which one host usually has to itself and can roam within.</summary>
    private static string AddressOf(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new System.Net.IPAddress(bytes).ToString() + "/64";
    }

    public void Dispose() => _limiter?.Dispose();
}
