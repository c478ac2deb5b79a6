using UserDataApi.Auth;

namespace UserDataApi.Intents;

/// <summary>
/// Every intent and link call needs a valid bearer token with <c>Intents:Scope</c>: 401 without one,
/// 403 without the scope, in the gateway's error shape.
/// </summary>
public sealed class IntentCallerFilter(TokenChecker tokens, IntentScope scope) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var check = await tokens.CheckAsync(context.HttpContext);
        return check switch
        {
            { Caller: null, Status: TokenStatus.AuthorityUnavailable } => IntentErrors.Unavailable("the token authority cannot be reached"),
            { Caller: null, Status: TokenStatus.Expired } => IntentErrors.Unauthenticated("the token has expired"),
            { Caller: null } => IntentErrors.Unauthenticated("a valid bearer token is required"),
            { Caller: { } caller } when !caller.Scopes.Covers(scope.Required) => IntentErrors.PermissionDenied($"the token lacks the scope '{scope.Required}'"),
            _ => await next(context),
        };
    }
}

/// <summary>The scope intent calls require (<c>Intents:Scope</c>).</summary>
public sealed class IntentScope(Microsoft.Extensions.Options.IOptions<IntentsOptions> options)
{
    public ScopeSet Required { get; } = ScopeSet.Parse(options.Value.Scope);
}
