using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace UserDataApi.Auth;

public enum TokenStatus { Valid, Invalid, Expired, AuthorityUnavailable, TooManyFailures }

/// <summary>
/// The outcome of checking a request's bearer token; <see cref="Caller"/> is set when it is valid, and
/// <see cref="RetryAfter"/> when the caller's address has failed too often (<see cref="TokenStatus.TooManyFailures"/>).
/// </summary>
public readonly record struct TokenCheck(TokenStatus Status, Caller? Caller, TimeSpan? RetryAfter = null);

/// <summary>
/// Authenticates a request's bearer token through the JwtBearer pipeline and says why it failed when
/// it did. Tokens that passed are remembered until they expire (<see cref="ValidatedTokenCache"/>),
/// and each request's outcome is kept on the request, so that checking twice costs nothing.
/// </summary>
public sealed class TokenChecker(
    IOptionsMonitor<JwtBearerOptions> jwtOptions, IOptions<AuthOptions> authOptions, ValidatedTokenCache cache, FailedAuthentications failures)
{
    private const string BearerPrefix = "Bearer ";
    private static readonly object CheckedItem = new();

    public async ValueTask<TokenCheck> CheckAsync(HttpContext context)
    {
        if (Checked(context) is { } done)
        {
            return done;
        }
        var check = await CheckUncachedAsync(context);
        context.Items[CheckedItem] = check;
        return check;
    }

    /// <summary>The token of an <c>Authorization: Bearer …</c> header; null without one.</summary>
    public static string? BearerTokenOf(HttpRequest request) =>
        BearerTokenIn(request.Headers.Authorization.ToString()) is { IsEmpty: false } token ? token.ToString() : null;

    /// <summary>The token of a bearer header, empty for any other, without copying it: most calls only look it up.</summary>
    private static ReadOnlySpan<char> BearerTokenIn(string header) =>
        header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) ? header.AsSpan(BearerPrefix.Length).Trim() : [];

    /// <summary>The outcome of <see cref="CheckAsync"/> when it already ran for this request.</summary>
    public static TokenCheck? Checked(HttpContext context) =>
        context.Items.TryGetValue(CheckedItem, out var check) ? (TokenCheck)check! : null;

    private async ValueTask<TokenCheck> CheckUncachedAsync(HttpContext context)
    {
        var presented = BearerTokenIn(context.Request.Headers.Authorization.ToString());
        if (presented.IsEmpty)
        {
            // Nothing to check, and nothing that costs a signature check: -1 / 401 at once.
            return new TokenCheck(TokenStatus.Invalid, null);
        }
        if (cache.TryGet(presented, out var known))
        {
            return new TokenCheck(TokenStatus.Valid, known);
        }
        var token = presented.ToString();
        if (failures.Refusal(context) is { } retryAfter)
        {
            return new TokenCheck(TokenStatus.TooManyFailures, null, retryAfter);
        }

        var result = await context.AuthenticateAsync(TokenAuthentication.Scheme);
        if (result.Succeeded && Caller.FromClaims(result.Principal) is { } caller)
        {
            if (long.TryParse(result.Principal.FindFirst("exp")?.Value, out var exp))
            {
                cache.Add(token, caller, DateTimeOffset.FromUnixTimeSeconds(exp).AddSeconds(authOptions.Value.ClockSkewSeconds));
            }
            return new TokenCheck(TokenStatus.Valid, caller);
        }

        var status = result.Failure switch
        {
            null => TokenStatus.Invalid,
            SecurityTokenExpiredException => TokenStatus.Expired,
            SecurityTokenSignatureKeyNotFoundException when !await AuthorityReachableAsync(context.RequestAborted) => TokenStatus.AuthorityUnavailable,
            _ => TokenStatus.Invalid,
        };
        // Only forgeries count: an expired token was signed by the authority, and every client sends one now and then.
        if (status == TokenStatus.Invalid)
        {
            failures.Record(context);
        }
        return new TokenCheck(status, null);
    }

    /// <summary>
    /// With no signing key to check a token against, the fault is ours when the authority's keys
    /// have never been fetched: that is "service temporarily not valid", not "token invalid".
    /// </summary>
    private async Task<bool> AuthorityReachableAsync(CancellationToken cancellationToken)
    {
        var manager = jwtOptions.Get(TokenAuthentication.AuthorityScheme).ConfigurationManager;
        if (manager is null)
        {
            return true;
        }
        try
        {
            await manager.GetConfigurationAsync(cancellationToken);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
