using System.Security.Claims;

namespace UserDataApi.Auth;

/// <summary>
/// Who is calling: the signed-in user, the client app acting for them, the scopes granted, and the user's
/// email address when the token vouches for it (trimmed and lower-cased; null when absent, ambiguous or
/// marked unverified).
/// </summary>
public sealed record Caller(string UserId, string ClientAppId, ScopeSet Scopes, string? VerifiedEmail = null)
{
    public const string SubjectClaim = "sub";
    public const string AuthorizedPartyClaim = "azp";
    public const string ClientIdClaim = "client_id";
    public const string EmailClaim = "email";
    public const string EmailVerifiedClaim = "email_verified";

    /// <summary>Reads a caller from a validated token's claims; null when the token names no user or no client app.</summary>
    public static Caller? FromClaims(ClaimsPrincipal principal)
    {
        var userId = principal.FindFirst(SubjectClaim)?.Value;
        var clientAppId = principal.FindFirst(AuthorizedPartyClaim)?.Value ?? principal.FindFirst(ClientIdClaim)?.Value;
        if (string.IsNullOrEmpty(userId) || string.IsNullOrEmpty(clientAppId))
        {
            return null;
        }

        var scopeValues = principal.Claims.Where(c => c.Type is "scope" or "scp").Select(c => c.Value);
        return new Caller(userId, clientAppId, ScopeSet.FromValues(scopeValues), VerifiedEmailOf(principal));
    }

    /// <summary>
    /// The address records may be filed under: exactly one non-empty <c>email</c> claim, and no <c>email_verified</c>
    /// claim other than a single <c>true</c> (a JSON boolean, or the string some providers send).
    /// </summary>
    private static string? VerifiedEmailOf(ClaimsPrincipal principal)
    {
        var emails = principal.FindAll(EmailClaim).ToArray();
        var verified = principal.FindAll(EmailVerifiedClaim).ToArray();
        if (emails.Length != 1 || verified.Length > 1
            || (verified.Length == 1 && !string.Equals(verified[0].Value, "true", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        var email = emails[0].Value.Trim().ToLowerInvariant();
        return email.Length > 0 ? email : null;
    }
}
