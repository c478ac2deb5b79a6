using UserDataApi.Auth;

namespace UserDataApi.Intents;

/// <summary>
/// Every intent and link call needs a valid bearer token with <c>Intents:Scope</c>: 401 without one,
/// 403 without the scope, in the gateway's error shape.
/// </summary>
public sealed class IntentCallerFilter(TokenChecker tokens, IntentScopes scopes, IntentRateLimits limits) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var check = await tokens.CheckAsync(context.HttpContext);
        return scopes.Refusal(check, limits) is { } refusal ? refusal.ToRest(context.HttpContext) : await next(context);
    }
}
