using System.Text.Json.Serialization.Metadata;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>The ZITADEL v2-compatible identity-provider intents and links (SPEC §4).</summary>
public static class IntentEndpoints
{
    public const string CallbackPath = "/idps/callback";

    public static WebApplicationBuilder AddIntents(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(IntentsOptions.Section);
        builder.Services.AddOptions<IntentsOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IntentsOptions>, IntentsOptionsValidator>();
        // Operators often write a list as one environment variable: "https://a.example https://b.example".
        builder.Services.PostConfigure<IntentsOptions>(options => options.AllowedRedirectOrigins.AddRange(
            (section["AllowedRedirectOrigins"] ?? "").Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        builder.ConfigureJsonAnswers(IntentJsonContext.Default);
        // Each provider's calls get that provider's timeout (ExternalProviders.ClientFor).
        builder.Services.AddHttpClient(ExternalProviders.HttpClientName);
        builder.Services.AddSingleton<ExternalProviders>();
        builder.Services.AddSingleton<IntentSecrets>();
        builder.Services.AddSingleton<IntentScopes>();
        builder.Services.AddSingleton<IntentRateLimits>();
        builder.Services.AddScoped<IntentFlow>();
        builder.Services.AddScoped<IntentLinks>();
        builder.Services.AddSingleton<IValidator<StartIntentRequest>, StartIntentRequestValidator>();
        builder.Services.AddSingleton<IValidator<AddLinkRequest>, AddLinkRequestValidator>();
        builder.Services.AddSingleton<IValidator<ListLinksRequest>, ListLinksRequestValidator>();
        builder.Services.AddHostedService<IntentSweeper>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIntents(this IEndpointRouteBuilder app)
    {
        var intents = app.MapGroup("/v2/idp_intents").WithTags("Identity-provider intents").AddEndpointFilter<IntentAddressLimitFilter>().AddEndpointFilter<IntentCallerFilter>()
            .WithErrorAnswer(IntentErrorAnswer.Instance);
        intents.MapPost("", StartAsync)
            .WithName("StartIdentityProviderIntent")
            .WithSummary("Start an intent: returns the provider's authorization URL")
            .WithDescription("Errors: 400 invalid idpId/urls (urls must be absolute http(s) URLs of an origin in `Intents:AllowedRedirectOrigins`), 401, 403, 404 unknown idpId, 503 provider unreachable.")
            .WithJsonRequestBody<StartIntentRequest>();
        intents.MapPost("/{idpIntentId}", RetrieveAsync)
            .WithName("RetrieveIdentityProviderIntent")
            .WithSummary("Retrieve what the identity provider returned (once)")
            .WithDescription("Errors: 400 intent not succeeded, expired or already consumed; 401; 403 wrong token or scope; 404 unknown intent.")
            .WithJsonRequestBody<RetrieveIntentRequest>();

        var links = app.MapGroup("/v2/users/{userId}/links").WithTags("Identity-provider links").AddEndpointFilter<IntentAddressLimitFilter>().AddEndpointFilter<IntentCallerFilter>()
            .WithErrorAnswer(IntentErrorAnswer.Instance);
        const string linksOwner = "Only the user itself (the token's `sub` is `userId`) or a token with `Intents:AdminScope` may call it; anyone else: 403.";
        links.MapPost("", AddLinkAsync).WithName("AddIDPLink").WithSummary("Link a provider account to a user")
            .WithDescription(linksOwner + " Errors: 400 missing idpId/userId, 401, 403, 404 unknown idpId, 409 the provider account is already linked.")
            .WithJsonRequestBody<AddLinkRequest>();
        links.MapPost("/_search", ListLinksAsync).WithName("ListIDPLinks").WithSummary("List a user's provider links")
            .WithDescription(linksOwner + " Errors: 400 offset/limit out of range, 401, 403.")
            .WithJsonRequestBody<ListLinksRequest>();
        links.MapDelete("/{idpId}/{linkedUserId}", RemoveLinkAsync)
            .WithName("RemoveIDPLink").WithSummary("Remove a provider link")
            .WithDescription(linksOwner + " Errors: 401, 403, 404 no such link.");

        app.MapMethods(CallbackPath, [HttpMethods.Get, HttpMethods.Post], CallbackAsync)
            .WithTags("Identity-provider intents")
            .WithName("IdentityProviderCallback")
            .AddEndpointFilter<IntentAddressLimitFilter>()
            .WithErrorAnswer(IntentErrorAnswer.Instance)
            .WithSummary("Where providers send the browser back (code/state or error); redirects to the intent's success or failure URL");
        return app;
    }

    // The REST gateway's handlers: each reads its body, hands a plain request to the application layer
    // (IntentFlow, IntentLinks) and maps the outcome to HTTP.

    private static Task<Results<Ok<StartIntentResponse>, JsonHttpResult<GatewayError>>> StartAsync(HttpContext http, IntentFlow flow, IOptions<IntentsOptions> options) =>
        WithBodyAsync(http, IntentJsonContext.Default.StartIntentRequest,
            request => flow.StartAsync(IntentScopes.CallerOf(http), request, RedirectUri(http, options.Value), http.RequestAborted));

    private static Task<Results<Ok<RetrieveIntentResponse>, JsonHttpResult<GatewayError>>> RetrieveAsync(string idpIntentId, HttpContext http, IntentFlow flow) =>
        WithBodyAsync(http, IntentJsonContext.Default.RetrieveIntentRequest,
            request => flow.RetrieveAsync(IntentScopes.CallerOf(http), idpIntentId, request, http.RequestAborted));

    private static Task<Results<Ok<DetailsResponse>, JsonHttpResult<GatewayError>>> AddLinkAsync(string userId, HttpContext http, IntentLinks store) =>
        WithBodyAsync(http, IntentJsonContext.Default.AddLinkRequest,
            request => store.AddAsync(IntentScopes.CallerOf(http), userId, request, http.RequestAborted));

    private static Task<Results<Ok<ListLinksResponse>, JsonHttpResult<GatewayError>>> ListLinksAsync(string userId, HttpContext http, IntentLinks store) =>
        WithBodyAsync(http, IntentJsonContext.Default.ListLinksRequest,
            request => store.ListAsync(IntentScopes.CallerOf(http), userId, request, http.RequestAborted), whenEmpty: () => new ListLinksRequest());

    private static async Task<Results<Ok<DetailsResponse>, JsonHttpResult<GatewayError>>> RemoveLinkAsync(
        string userId, string idpId, string linkedUserId, HttpContext http, IntentLinks store) =>
        (await store.RemoveAsync(IntentScopes.CallerOf(http), userId, idpId, linkedUserId, http.RequestAborted)).ToRest();

    /// <summary>Reads the body as <typeparamref name="TRequest"/> (SPEC §7: JSON, at most 1 MiB), then runs the call with it.</summary>
    private static async Task<Results<Ok<TResponse>, JsonHttpResult<GatewayError>>> WithBodyAsync<TRequest, TResponse>(
        HttpContext http, JsonTypeInfo<TRequest> type, Func<TRequest, Task<IntentOutcome<TResponse>>> call, Func<TRequest>? whenEmpty = null)
        where TRequest : class
    {
        var request = await JsonRequestBody.ReadAsync(http.Request, type, http.RequestAborted, whenEmpty);
        return request is null ? IntentFailures.InvalidBody().ToRest() : (await call(request)).ToRest();
    }

    private static async Task<Results<RedirectHttpResult, JsonHttpResult<GatewayError>>> CallbackAsync(HttpContext http, IntentFlow flow, IOptions<IntentsOptions> options)
    {
        IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> values = http.Request.Query;
        if (http.Request.HasFormContentType)
        {
            try
            {
                values = await http.Request.ReadFormAsync(http.RequestAborted);
            }
            // A form over its limits, or a body that does not arrive whole (BadHttpRequestException is an IOException).
            catch (Exception exception) when (exception is InvalidDataException or IOException && !http.RequestAborted.IsCancellationRequested)
            {
                return IntentFailures.CallbackUnreadable("the callback's form cannot be read").ToRest();
            }
        }
        var parameters = values.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        if (!parameters.Values.All(StoredText.IsStorable))
        {
            return IntentFailures.CallbackUnreadable("callback parameters must not hold NUL").ToRest();
        }
        var callback = new CallbackParameters(
            parameters.GetValueOrDefault("state"), parameters.GetValueOrDefault("code"),
            parameters.GetValueOrDefault("error"), parameters.GetValueOrDefault("error_description"));
        var outcome = await flow.CompleteAsync(callback, RedirectUri(http, options.Value), http.RequestAborted);
        return outcome.Error is { } error ? error.ToRest() : TypedResults.Redirect(outcome.Value!);
    }

    /// <summary><c>{Intents:PublicBaseUrl}/idps/callback</c>, or this request's own address when no public base URL is set.</summary>
    private static string RedirectUri(HttpContext http, IntentsOptions options)
    {
        var baseUrl = string.IsNullOrEmpty(options.PublicBaseUrl)
            ? $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}"
            : options.PublicBaseUrl;
        return baseUrl.TrimEnd('/') + CallbackPath;
    }
}
