using Microsoft.Extensions.Options;
using UserDataApi.Auth;

namespace UserDataApi.Intents;

/// <summary>The scope intent calls require (<c>Intents:Scope</c>), and the one that administers every user's links (<c>Intents:AdminScope</c>).</summary>
public sealed class IntentScopes(IOptions<IntentsOptions> options)
{
    public ScopeSet Required { get; } = ScopeSet.Parse(options.Value.Scope);

    public ScopeSet LinksAdmin { get; } = ScopeSet.Parse(options.Value.AdminScope);

    /// <summary>Why a call with this token is refused before its own work, on any transport; null when it may go on.</summary>
    public IntentError? Refusal(TokenCheck check, IntentRateLimits limits) => check switch
    {
        { Caller: null, Status: TokenStatus.AuthorityUnavailable } => IntentFailures.AuthorityUnavailable(),
        { Caller: null, Status: TokenStatus.TooManyFailures, RetryAfter: var retryAfter } => IntentFailures.TooManyFailedAuthentications(retryAfter),
        { Caller: null, Status: TokenStatus.Expired } => IntentFailures.TokenExpired(),
        { Caller: null } => IntentFailures.Unauthenticated("a valid bearer token is required"),
        { Caller: { } caller } when !caller.Scopes.Covers(Required) => IntentFailures.ScopeMissing(Required.ToString()),
        { Caller: { } caller } when limits.RefuseClientApp(caller.ClientAppId) is { } retryAfter => IntentFailures.TooManyRequests(retryAfter),
        _ => null,
    };

    /// <summary>A caller manages its own links (its <c>sub</c> is the user), or anyone's with the administrative scope.</summary>
    public bool MayManageLinksOf(Caller caller, string userId) =>
        string.Equals(caller.UserId, userId, StringComparison.Ordinal) || (LinksAdmin.Scopes.Count > 0 && caller.Scopes.Covers(LinksAdmin));

}
