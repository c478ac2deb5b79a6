using System.Text;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using UserDataApi.Auth;
using UserDataApi.Hosting;

namespace UserDataApi.UserData;

/// <summary>The HyperID-compatible "user data by identity provider" endpoints (SPEC §3).</summary>
public static class UserDataEndpoints
{
    public static WebApplicationBuilder AddUserData(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UserDataOptions>().Bind(builder.Configuration.GetSection(UserDataOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<UserDataOptions>, UserDataOptionsValidator>();
        builder.Services.AddSingleton<UserDataPipeline>();
        builder.Services.AddSingleton<GetBatcher>();
        builder.Services.AddSingleton<UserDataMetrics>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(UserDataMetrics.MeterName));
        builder.Services.AddSingleton<UserDataScopes>();
        builder.Services.AddScoped<UserDataStore>();
        builder.Services.AddSingleton<SearchCursor>();
        builder.Services.AddSingleton<IValidator<SetRequest>, SetRequestValidator>();
        builder.Services.AddSingleton<IValidator<GetRequest>, GetRequestValidator>();
        builder.Services.AddSingleton<IValidator<ListGetRequest>, ListGetRequestValidator>();
        builder.Services.AddSingleton<IValidator<SharedListGetRequest>, SharedListGetRequestValidator>();
        builder.Services.AddSingleton<IValidator<DeleteRequest>, DeleteRequestValidator>();
        builder.ConfigureJsonAnswers(UserDataJsonContext.Default);
        return builder;
    }

    public static IEndpointRouteBuilder MapUserData(this IEndpointRouteBuilder app)
    {
        // Token and scope failures are answers of the contract (HTTP 200 with -1/-2/-3), so the
        // pipeline checks them itself instead of the authorization middleware.
        var group = app.MapGroup("/user-data/by-idp").WithTags("User data by identity provider");

        group.MapPost("/set", SetAsync)
            .WithErrorAnswer(new UserDataErrorAnswer<SetResponse>())
            .WithName("UserDataSet")
            .WithSummary("Create or replace a value")
            .WithDescription(Describe(
                "Creates the record, or replaces its value and access scope when the caller's client app owns it. Scopes: `UserData:WriteScopes`.",
                (ResultCode.Success, "stored"),
                (ResultCode.KeyAccessDenied, "the key belongs to another client app; nothing changed"),
                (ResultCode.KeyInvalid, "empty key, longer than `UserData:MaxKeyLength`, or holding control characters")))
            .WithJsonRequestBody<SetRequest>();

        group.MapPost("/get", GetAsync)
            .WithErrorAnswer(new UserDataErrorAnswer<GetResponse>())
            .WithName("UserDataGet")
            .WithSummary("Read values by key")
            .WithDescription(Describe(
                "Returns, for each requested key, the record when the caller's client app owns it or it is public. Scopes: `UserData:ReadScopes`.",
                (ResultCode.SuccessNotFound, "none of the keys is visible"),
                (ResultCode.Success, "at least one value is returned"),
                (ResultCode.KeysSizeLimitReached, "more keys than `UserData:MaxKeysPerRequest`")))
            .WithJsonRequestBody<GetRequest>();

        group.MapPost("/list-get", ListGetAsync)
            .WithErrorAnswer(new UserDataErrorAnswer<ListGetResponse>())
            .WithName("UserDataListGet")
            .WithSummary("List the caller's own keys")
            .WithDescription(Describe(
                "Lists the keys the caller's client app owns for this user and identity provider, split by access scope. Scopes: `UserData:ReadScopes`.",
                (ResultCode.SuccessNotFound, "the client app owns no keys here"),
                (ResultCode.Success, "keys listed")))
            .WithJsonRequestBody<ListGetRequest>();

        group.MapPost("/shared-list-get", SharedListGetAsync)
            .WithErrorAnswer(new UserDataErrorAnswer<SharedListGetResponse>())
            .WithName("UserDataSharedListGet")
            .WithSummary("List other client apps' public keys, a page at a time")
            .WithDescription(Describe(
                "Lists public keys that other client apps own for this user and identity provider, in key order, `page_size` at a time. "
                + "`next_search_id` is non-empty exactly when the page is full; send it back as `search_id` for the next page. Scopes: `UserData:ReadScopes`.",
                (ResultCode.SuccessNotFound, "a first page that finds nothing"),
                (ResultCode.Success, "a page (possibly empty, after a full last page)"),
                (ResultCode.InvalidParameters, "body not JSON, wrong types, missing fields, body over 1 MiB, `page_size` 0 or over 1000, or a `search_id` this server did not issue for this caller")))
            .WithJsonRequestBody<SharedListGetRequest>();

        group.MapPost("/delete", DeleteAsync)
            .WithErrorAnswer(new UserDataErrorAnswer<DeleteResponse>())
            .WithName("UserDataDelete")
            .WithSummary("Remove the caller's own keys")
            .WithDescription(Describe(
                "Removes the listed keys the caller's client app owns. If any listed key belongs to another client app, nothing is removed. Scopes: `UserData:WriteScopes`.",
                (ResultCode.SuccessNotFound, "none of the keys existed"),
                (ResultCode.Success, "removed"),
                (ResultCode.KeyAccessDenied, "a listed key belongs to another client app; nothing removed")))
            .WithJsonRequestBody<DeleteRequest>();

        return app;
    }

    private static Task<Ok<SetResponse>> SetAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.SetRequest, scopes.Write, store.SetAsync));

    private static Task<Ok<GetResponse>> GetAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.GetRequest, scopes.Read, store.GetAsync));

    private static Task<Ok<ListGetResponse>> ListGetAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.ListGetRequest, scopes.Read, store.ListGetAsync));

    private static Task<Ok<SharedListGetResponse>> SharedListGetAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.SharedListGetRequest, scopes.Read, store.SharedListGetAsync));

    private static Task<Ok<DeleteResponse>> DeleteAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.DeleteRequest, scopes.Write, store.DeleteAsync));

    private static async Task<Ok<TResponse>> Answer<TResponse>(Task<TResponse> response) => TypedResults.Ok(await response);

    /// <summary>An endpoint's description: what it does, then a table of the result codes it can answer.</summary>
    private static string Describe(string purpose, params (ResultCode Code, string When)[] specific)
    {
        (ResultCode Code, string When)[] common =
        [
            (ResultCode.TokenInvalid, "no, malformed or invalid bearer token"),
            (ResultCode.TokenExpired, "the token has expired"),
            (ResultCode.AccessDenied, "the token lacks a required scope"),
            (ResultCode.ServiceTemporarilyNotValid, "database unavailable, or no identity-provider catalog loaded yet"),
            (ResultCode.InvalidParameters, "body not JSON, wrong types, missing fields, or body over 1 MiB"),
            (ResultCode.IdentityProviderNotFound, "`identity_provider` is not in the catalog"),
        ];
        var text = new StringBuilder(purpose).Append("\n\nAlways HTTP 200; the outcome is `result`:\n\n| result | when |\n|---|---|\n");
        var rows = specific.Concat(common.Where(c => specific.All(s => s.Code != c.Code)));
        foreach (var (code, when) in rows.OrderByDescending(c => (int)c.Code))
        {
            text.Append("| ").Append((int)code).Append(" | ").Append(when).Append(" |\n");
        }
        return text.ToString();
    }
}

/// <summary>The scopes each kind of user-data call requires, from <c>UserData:ReadScopes</c> and <c>UserData:WriteScopes</c>.</summary>
public sealed class UserDataScopes(IOptions<UserDataOptions> options)
{
    public ScopeSet Read { get; } = ScopeSet.Parse(options.Value.ReadScopes);
    public ScopeSet Write { get; } = ScopeSet.Parse(options.Value.WriteScopes);
}
