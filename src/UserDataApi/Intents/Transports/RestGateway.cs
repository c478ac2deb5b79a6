using Google.Protobuf;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.Intents.Rpc.User;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// The REST gateway of the UserService (SPEC §4.1): ZITADEL's paths, protojson bodies, errors in the gateway's
/// shape. Each handler reads its body, takes the path's values, and hands the request to <see cref="UserServiceMethods"/>.
/// </summary>
public static class RestGateway
{
    private const string LinksOwner = "Only the user itself (the token's `sub` is `userId`) or a token with `Intents:AdminScope` may call it; anyone else: 403.";

    public static void Map(IEndpointRouteBuilder app)
    {
        var intents = app.MapGroup("/v2/idp_intents").WithTags(RpcTransportsDocument.IntentsTag).AllowBrowserCallers()
            .AddEndpointFilter<IntentGateFilter>().WithErrorAnswer(IntentErrorAnswer.Instance);
        intents.MapPost("", StartAsync)
            .WithName("StartIdentityProviderIntent")
            .WithSummary("Start an intent: the provider's authorization URL, or (LDAP) the signed-in intent at once")
            .WithDescription("`urls` for an oidc or oauth provider (the answer's `authUrl`), `ldap: { username, password }` for an ldap one "
                             + "(the answer's `idpIntent`). Errors: 400 invalid idpId/urls/ldap (urls must be absolute http(s) URLs of an origin in "
                             + "`Intents:AllowedRedirectOrigins`, at most 2,048 characters, without control characters), or the directory refused the sign-in (`LDAP-Lgn4fd`, the same "
                             + "for every reason); 401, 403, 404 unknown idpId, 429 (also per username for LDAP), 503 provider or directory unreachable.")
            .Documented<StartIdentityProviderIntentRequest, StartIdentityProviderIntentResponse>();
        intents.MapPost("/{idpIntentId}", RetrieveAsync)
            .WithName("RetrieveIdentityProviderIntent")
            .WithSummary("Retrieve what the identity provider returned")
            .WithDescription("Within `Intents:LifetimeSeconds` of its success, as often as needed, by the client app that started it. "
                             + "Errors: 400 not succeeded or expired; 401; 403 wrong or missing token, unknown intent, another client app, or scope missing; 429.")
            .Documented<RetrieveIdentityProviderIntentRequest, RetrieveIdentityProviderIntentResponse>();

        var links = app.MapGroup("/v2/users/{userId}/links").WithTags(RpcTransportsDocument.LinksTag).AllowBrowserCallers()
            .AddEndpointFilter<IntentGateFilter>().WithErrorAnswer(IntentErrorAnswer.Instance);
        links.MapPost("", AddLinkAsync).WithName("AddIDPLink").WithSummary("Link a provider account to a user")
            .WithDescription(LinksOwner + " Errors: 400 missing idpId/userId, 401, 403, 404 unknown idpId, 409 the provider account is already linked, 429.")
            .Documented<AddIDPLinkRequest, AddIDPLinkResponse>();
        links.MapPost("/_search", ListLinksAsync).WithName("ListIDPLinks").WithSummary("List a user's provider links")
            .WithDescription(LinksOwner + " Newest first unless `query.asc`. Errors: 400 limit over 1000, 401, 403, 429.")
            .Documented<ListIDPLinksRequest, ListIDPLinksResponse>();
        links.MapDelete("/{idpId}/{linkedUserId}", RemoveLinkAsync).WithName("RemoveIDPLink").WithSummary("Remove a provider link")
            .WithDescription(LinksOwner + " Errors: 401, 403, 404 no such link, 429.")
            .Documented<RemoveIDPLinkResponse>();
    }

    private static Task<IResult> StartAsync(HttpContext http, UserServiceMethods methods) =>
        RunAsync<StartIdentityProviderIntentRequest, StartIdentityProviderIntentResponse>(http, _ => { }, methods.StartAsync);

    private static Task<IResult> RetrieveAsync(string idpIntentId, HttpContext http, UserServiceMethods methods) =>
        RunAsync<RetrieveIdentityProviderIntentRequest, RetrieveIdentityProviderIntentResponse>(http, request => request.IdpIntentId = idpIntentId, methods.RetrieveAsync);

    private static Task<IResult> AddLinkAsync(string userId, HttpContext http, UserServiceMethods methods) =>
        RunAsync<AddIDPLinkRequest, AddIDPLinkResponse>(http, request => request.UserId = userId, methods.AddLinkAsync);

    private static Task<IResult> ListLinksAsync(string userId, HttpContext http, UserServiceMethods methods) =>
        RunAsync<ListIDPLinksRequest, ListIDPLinksResponse>(http, request => request.UserId = userId, methods.ListLinksAsync, emptyIsObject: true);

    private static async Task<IResult> RemoveLinkAsync(string userId, string idpId, string linkedUserId, HttpContext http, UserServiceMethods methods) =>
        Answer(await methods.RemoveLinkAsync(IntentGateFilter.CallerOf(http), new RemoveIDPLinkRequest { UserId = userId, IdpId = idpId, LinkedUserId = linkedUserId }, http), http);

    /// <summary>Reads the body (SPEC §7: JSON, at most 1 MiB), lets the path's values win over the body's, and runs the call.</summary>
    private static async Task<IResult> RunAsync<TRequest, TResponse>(
        HttpContext http, Action<TRequest> fromPath, Func<Caller, TRequest, HttpContext, Task<IntentOutcome<TResponse>>> call, bool emptyIsObject = false)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage
    {
        if (await ProtoJson.ReadAsync<TRequest>(http.Request, emptyIsObject) is not { } request)
        {
            return IntentFailures.InvalidBody().ToRest();
        }
        fromPath(request);
        return Answer(await call(IntentGateFilter.CallerOf(http), request, http), http);
    }

    private static IResult Answer<TResponse>(IntentOutcome<TResponse> outcome, HttpContext http) where TResponse : class, IMessage =>
        outcome.Error is { } error ? error.ToRest(http) : ProtoJson.Ok(outcome.Value!);

    private static RouteHandlerBuilder Documented<TRequest, TResponse>(this RouteHandlerBuilder endpoint) =>
        endpoint.WithJsonRequestBody<TRequest>().Documented<TResponse>();

    private static RouteHandlerBuilder Documented<TResponse>(this RouteHandlerBuilder endpoint) =>
        endpoint.Produces<TResponse>(StatusCodes.Status200OK, "application/json")
            .Produces<GatewayError>(StatusCodes.Status400BadRequest, "application/json")
            .Produces<GatewayError>(StatusCodes.Status401Unauthorized, "application/json")
            .Produces<GatewayError>(StatusCodes.Status403Forbidden, "application/json")
            .Produces<GatewayError>(StatusCodes.Status404NotFound, "application/json")
            .Produces<GatewayError>(StatusCodes.Status429TooManyRequests, "application/json")
            .Produces<GatewayError>(StatusCodes.Status503ServiceUnavailable, "application/json");
}

/// <summary>
/// <see cref="IntentGate"/> on the REST gateway's routes, before the body is read: a caller without a valid token
/// costs no parsing. The caller it found is the handler's (<see cref="CallerOf"/>).
/// </summary>
public sealed class IntentGateFilter(IntentGate gate) : IEndpointFilter
{
    private static readonly object CallerItem = new();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var (caller, refusal) = await gate.CheckAsync(context.HttpContext);
        if (refusal is not null)
        {
            return refusal.ToRest(context.HttpContext);
        }
        context.HttpContext.Items[CallerItem] = caller;
        return await next(context);
    }

    public static Caller CallerOf(HttpContext http) =>
        http.Items[CallerItem] as Caller ?? throw new InvalidOperationException("the intent gate has not run for this request");
}
