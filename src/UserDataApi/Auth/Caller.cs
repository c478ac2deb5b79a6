using System.Security.Claims;

namespace UserDataApi.Auth;

/// <summary>Who is calling: the signed-in user, the client app acting for them, and the scopes granted.</summary>
public sealed record Caller(string UserId, string ClientAppId, ScopeSet Scopes)
{
    public const string SubjectClaim = "sub";
    public const string AuthorizedPartyClaim = "azp";
    public const string ClientIdClaim = "client_id";

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
        return new Caller(userId, clientAppId, ScopeSet.FromValues(scopeValues));
    }
}
