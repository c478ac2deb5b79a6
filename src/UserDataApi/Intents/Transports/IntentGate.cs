using UserDataApi.Auth;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// What every transport checks before an intent call's own work, in one order: the caller's address within its
/// window, then a valid bearer token with <c>Intents:Scope</c>, then the client app within its window.
/// </summary>
public sealed class IntentGate(TokenChecker tokens, IntentScopes scopes, IntentRateLimits limits)
{
    /// <summary>The caller, or why the call is refused.</summary>
    public async ValueTask<(Caller? Caller, IntentError? Refusal)> CheckAsync(HttpContext http)
    {
        if (limits.RefuseAddress(http) is { } retryAfter)
        {
            return (null, IntentFailures.TooManyRequests(retryAfter));
        }
        var check = await tokens.CheckAsync(http);
        return scopes.Refusal(check, limits) is { } refusal ? (null, refusal) : (check.Caller, null);
    }
}
