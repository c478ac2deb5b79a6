using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Intents.Transports;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>The ZITADEL v2-compatible identity-provider intents and links (SPEC §4): their services, transports and the providers' callback.</summary>
public static class IntentEndpoints
{
    public const string CallbackPath = "/idps/callback";

    public static WebApplicationBuilder AddIntents(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(IntentsOptions.Section);
        builder.Services.AddOptions<IntentsOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IntentsOptions>, IntentsOptionsValidator>();
        // Operators often write a list as one environment variable: "https://a.example https://b.example".
        builder.Services.PostConfigure<IntentsOptions>(options =>
        {
            options.AllowedRedirectOrigins.AddRange(SettingRules.ItemsOf(section["AllowedRedirectOrigins"]));
            LdapSettings.SplitLists(section.GetSection(nameof(IntentsOptions.Providers)), options);
        });
        builder.ConfigureJsonAnswers(IntentJsonContext.Default);
        // Each provider's calls get that provider's timeout (ExternalProviders.ClientFor).
        builder.Services.AddHttpClient(ExternalProviders.HttpClientName);
        builder.Services.AddSingleton<ExternalProviders>();
        builder.Services.AddSingleton<LdapDirectory>();
        builder.Services.AddSingleton<IntentSecrets>();
        builder.Services.AddSingleton<IntentScopes>();
        builder.Services.AddSingleton<IntentRateLimits>();
        builder.Services.AddStatementBatchers(typeof(RetrieveBatcher));
        builder.Services.AddScoped<IntentFlow>();
        builder.Services.AddScoped<IntentLinks>();
        builder.Services.AddSingleton<IValidator<StartIdentityProviderIntentRequest>, StartIntentRequestValidator>();
        builder.Services.AddSingleton<IValidator<AddIDPLinkRequest>, AddLinkRequestValidator>();
        builder.Services.AddSingleton<IValidator<ListIDPLinksRequest>, ListLinksRequestValidator>();
        builder.Services.AddHostedService<IntentSweeper>();

        // One implementation behind the four transports of SPEC §4.1.
        builder.Services.AddSingleton<IntentGate>();
        builder.Services.AddScoped<UserServiceMethods>();
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = JsonRequestBody.MaxBytes);
        builder.Services.AddSingleton<MatcherPolicy, ConnectOrGrpcPolicy>();
        builder.AddCleartextGrpcListener();
        builder.Services.ConfigureSwaggerGen(swagger => swagger.DocumentFilter<RpcTransportsDocument>());
        return builder;
    }

    /// <summary>The REST gateway, gRPC, gRPC-Web and Connect, and the providers' callback.</summary>
    public static WebApplication MapIntents(this WebApplication app)
    {
        app.UseGrpcWeb();
        app.UseGrpcRequestChecks();
        RestGateway.Map(app);
        ConnectProtocol.Map(app);
        app.MapGrpcService<GrpcUserService>().EnableGrpcWeb().AllowBrowserCallers().WithErrorAnswer(IntentErrorAnswer.Instance);
        app.MapMethods(CallbackPath, [HttpMethods.Get, HttpMethods.Post], CallbackAsync)
            .WithTags(RpcTransportsDocument.IntentsTag)
            .WithName("IdentityProviderCallback")
            .AddEndpointFilter<IntentAddressLimitFilter>()
            .WithErrorAnswer(IntentErrorAnswer.Instance)
            .WithSummary("Where providers send the browser back (code/state or error); redirects to the intent's success or failure URL");
        return app;
    }

    private static async Task<Results<RedirectHttpResult, JsonHttpResult<GatewayError>>> CallbackAsync(HttpContext http, UserServiceMethods methods)
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
        var outcome = await methods.CompleteAsync(callback, http);
        return outcome.Error is { } error ? error.ToRest() : TypedResults.Redirect(outcome.Value!);
    }
}
