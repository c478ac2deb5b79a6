using System.Text;
using System.Text.Json.Serialization.Metadata;
using FluentValidation;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// HyperID's user-data endpoints (SPEC §3): by identity provider, by user id and by email, five calls each, on
/// one pipeline and one store; each sub-family answers from its own table of result codes.
/// </summary>
public static class UserDataEndpoints
{
    public static WebApplicationBuilder AddUserData(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UserDataOptions>().Bind(builder.Configuration.GetSection(UserDataOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<UserDataOptions>, UserDataOptionsValidator>();
        builder.Services.AddSingleton<UserDataPipeline>();
        builder.Services.AddStatementBatchers(typeof(GetBatcher), typeof(SetBatcher), typeof(DeleteBatcher), typeof(OwnKeysBatcher), typeof(SharedPageBatcher));
        builder.Services.AddSingleton<UserDataMetrics>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(UserDataMetrics.MeterName));
        builder.Services.AddSingleton<UserDataScopes>();
        builder.Services.AddScoped<UserDataStore>();
        builder.Services.AddSingleton<SearchCursor>();
        builder.Services.AddFieldRules<SetRequest, ByIdpSetRequest, SetRequestValidator>();
        builder.Services.AddFieldRules<GetRequest, ByIdpGetRequest, GetRequestValidator>();
        builder.Services.AddFieldRules<ListGetRequest, ByIdpListGetRequest, ListGetRequestValidator>();
        builder.Services.AddFieldRules<SharedListGetRequest, ByIdpSharedListGetRequest, SharedListGetRequestValidator>();
        builder.Services.AddFieldRules<DeleteRequest, ByIdpDeleteRequest, DeleteRequestValidator>();
        builder.ConfigureJsonAnswers(UserDataJsonContext.Default);
        return builder;
    }

    /// <summary>One set of field rules for a request's fields, whichever sub-family's request carries them.</summary>
    private static void AddFieldRules<TFields, TByIdp, TValidator>(this IServiceCollection services)
        where TFields : UserDataRequest
        where TByIdp : TFields
        where TValidator : class, IValidator<TFields>
    {
        services.AddSingleton<IValidator<TFields>, TValidator>();
        services.AddSingleton<IValidator<TByIdp>>(provider => provider.GetRequiredService<IValidator<TFields>>());
    }

    public static IEndpointRouteBuilder MapUserData(this IEndpointRouteBuilder app)
    {
        // Token and scope failures are answers of the contract (HTTP 200 with -1/-2/-3), so the
        // pipeline checks them itself instead of the authorization middleware.
        var json = UserDataJsonContext.Default;
        var byIdp = new Family<ByIdpResultCode>(UserDataFamily.ByIdentityProvider, "by-idp", "User data by identity provider", "UserData",
            "this user and identity provider", "for this user and identity provider");
        MapCommonCalls(app, byIdp, json.ByIdpSetRequest, json.ByIdpGetRequest, json.ByIdpListGetRequest, json.ByIdpSharedListGetRequest)
            .MapPost("/delete", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<ByIdpDeleteRequest, DeleteResponse<ByIdpResultCode>, ByIdpResultCode>(http, byIdp.Name, json.ByIdpDeleteRequest, scopes.Write,
                    async (filing, request, caller, cancellationToken) =>
                    {
                        var (listed, foreign) = await store.DeleteAllOrNothingAsync(filing, request, caller, cancellationToken);
                        return new DeleteResponse<ByIdpResultCode>(request.RequestId,
                            foreign > 0 ? ByIdpResultCode.KeyAccessDenied : listed == 0 ? ByIdpResultCode.SuccessNotFound : ByIdpResultCode.Success);
                    }, queued: true)))
            .Document<DeleteResponse<ByIdpResultCode>, ByIdpResultCode, ByIdpDeleteRequest>(byIdp, "Delete", "Remove the caller's own keys",
                "Removes the listed keys the caller's client app owns. If any listed key belongs to another client app, nothing is removed. Scopes: `UserData:WriteScopes`.",
                (ByIdpResultCode.SuccessNotFound, "none of the keys existed"),
                (ByIdpResultCode.Success, "removed"),
                (ByIdpResultCode.KeyAccessDenied, "a listed key belongs to another client app; nothing removed"));

        var byUserId = new Family<ByUserIdResultCode>(UserDataFamily.ByUserId, "by-user-id", "User data by user id", "UserDataByUserId",
            "this user (the token's `sub`)", "for this user");
        MapCommonCalls(app, byUserId, json.SetRequest, json.GetRequest, json.ListGetRequest, json.SharedListGetRequest)
            .MapPost("/delete", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<DeleteRequest, ByUserIdDeleteResponse, ByUserIdResultCode>(http, byUserId.Name, json.DeleteRequest, scopes.Write,
                    async (filing, request, caller, cancellationToken) =>
                    {
                        var removed = await store.DeleteOwnAsync(filing, request, caller, cancellationToken);
                        var results = request.ValueKeys.Distinct(StringComparer.Ordinal).Select(key => new KeyDeleteResult(key, removed.Contains(key))).ToArray();
                        return new ByUserIdDeleteResponse(request.RequestId, removed.Count > 0 ? ByUserIdResultCode.Success : ByUserIdResultCode.SuccessNotFound, results);
                    }, queued: true)))
            .Document<ByUserIdDeleteResponse, ByUserIdResultCode, DeleteRequest>(byUserId, "Delete", "Remove the caller's own keys, answering per key",
                "Removes those of the listed keys that the caller's client app owns; a key another client app owns, or that does not exist, is left alone. "
                + "`keys_delete_results` holds one `{ value_key, is_deleted }` per distinct asked key. Scopes: `UserData:WriteScopes`.",
                (ByUserIdResultCode.SuccessNotFound, "no key was removed"),
                (ByUserIdResultCode.Success, "at least one key was removed"));

        var byEmail = new Family<ByEmailResultCode>(UserDataFamily.ByEmail, "by-email", "User data by email", "UserDataByEmail",
            "this user's verified email (the token's `email` claim, trimmed and lower-cased)", "under this email");
        MapCommonCalls(app, byEmail, json.SetRequest, json.GetRequest, json.ListGetRequest, json.SharedListGetRequest)
            .MapPost("/delete", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<DeleteRequest, DeleteResponse<ByEmailResultCode>, ByEmailResultCode>(http, byEmail.Name, json.DeleteRequest, scopes.Write,
                    async (filing, request, caller, cancellationToken) =>
                    {
                        var removed = await store.DeleteOwnAsync(filing, request, caller, cancellationToken);
                        return new DeleteResponse<ByEmailResultCode>(request.RequestId, removed.Count > 0 ? ByEmailResultCode.Success : ByEmailResultCode.SuccessNotFound);
                    }, queued: true)))
            .Document<DeleteResponse<ByEmailResultCode>, ByEmailResultCode, DeleteRequest>(byEmail, "Delete", "Remove the caller's own keys",
                "Removes those of the listed keys that the caller's client app owns; a key another client app owns is left alone. Scopes: `UserData:WriteScopes`.",
                (ByEmailResultCode.SuccessNotFound, "no key was removed"),
                (ByEmailResultCode.Success, "at least one key was removed"));

        return app;
    }

    /// <summary>A sub-family: its storage namespace, path, Swagger tag, operation-name prefix, and how its descriptions name the records' owner.</summary>
    private sealed record Family<TCode>(UserDataFamily Name, string Path, string Tag, string OperationPrefix, string FiledUnder, string Here)
        where TCode : struct, Enum;

    /// <summary>set, get, list-get and shared-list-get, which mean the same in every sub-family; returns the group for its delete.</summary>
    private static RouteGroupBuilder MapCommonCalls<TCode, TSet, TGet, TListGet, TSharedListGet>(
        IEndpointRouteBuilder app,
        Family<TCode> family,
        JsonTypeInfo<TSet> setType,
        JsonTypeInfo<TGet> getType,
        JsonTypeInfo<TListGet> listGetType,
        JsonTypeInfo<TSharedListGet> sharedListGetType)
        where TCode : struct, Enum
        where TSet : SetRequest
        where TGet : GetRequest
        where TListGet : ListGetRequest
        where TSharedListGet : SharedListGetRequest
    {
        var codes = (Success: ResultCodes<TCode>.Success, NotFound: ResultCodes<TCode>.SuccessNotFound);
        var group = app.MapGroup($"/user-data/{family.Path}").WithTags(family.Tag).AllowBrowserCallers();
        // by-idp's list-get must name its identity provider; the others' may come without a body (the Python SDK sends none).
        Func<TListGet>? emptyListGet = family.Name == UserDataFamily.ByIdentityProvider ? null : () => (TListGet)new ListGetRequest();

        group.MapPost("/set", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<TSet, SetResponse<TCode>, TCode>(http, family.Name, setType, scopes.Write,
                    async (filing, request, caller, cancellationToken) => new SetResponse<TCode>(request.RequestId,
                        await store.SetAsync(filing, request, caller, cancellationToken) switch
                        {
                            SetOutcome.Stored => codes.Success,
                            SetOutcome.KeyAccessDenied => ResultCodes<TCode>.KeyAccessDenied,
                            _ => ResultCodes<TCode>.KeyInvalid,
                        }), queued: true)))
            .Document<SetResponse<TCode>, TCode, TSet>(family, "Set", "Create or replace a value",
                $"Creates the record under {family.FiledUnder}, or replaces its value and access scope when the caller's client app owns it. Scopes: `UserData:WriteScopes`.",
                (codes.Success, "stored"),
                (ResultCodes<TCode>.KeyAccessDenied, "the key belongs to another client app; nothing changed"),
                (ResultCodes<TCode>.KeyInvalid, "empty key, longer than `UserData:MaxKeyLength`, or holding control characters"));

        group.MapPost("/get", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<TGet, GetResponse<TCode>, TCode>(http, family.Name, getType, scopes.Read,
                    async (filing, request, caller, cancellationToken) =>
                    {
                        var values = await store.GetAsync(filing, request, caller, cancellationToken);
                        return new GetResponse<TCode>(request.RequestId, values.Count > 0 ? codes.Success : codes.NotFound, values);
                    }, queued: true)))
            .Document<GetResponse<TCode>, TCode, TGet>(family, "Get", "Read values by key",
                $"Returns, for each requested key {family.Here}, the record when the caller's client app owns it or it is public. Scopes: `UserData:ReadScopes`.",
                (codes.NotFound, "none of the keys is visible"),
                (codes.Success, "at least one value is returned"),
                (ResultCodes<TCode>.KeysSizeLimitReached, "more keys than `UserData:MaxKeysPerRequest`"));

        group.MapPost("/list-get", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<TListGet, ListGetResponse<TCode>, TCode>(http, family.Name, listGetType, scopes.Read,
                    async (filing, request, caller, cancellationToken) =>
                    {
                        var own = await store.ListOwnAsync(filing, caller, cancellationToken);
                        return new ListGetResponse<TCode>(request.RequestId, own.IsEmpty ? codes.NotFound : codes.Success, own.Private, own.Public);
                    }, emptyListGet, queued: true)))
            .Document<ListGetResponse<TCode>, TCode, TListGet>(family, "ListGet", "List the caller's own keys",
                $"Lists the keys the caller's client app owns {family.Here}, split by access scope."
                + (emptyListGet is null ? "" : " The body may be left out, or be `{}` or hold only `request_id`.") + " Scopes: `UserData:ReadScopes`.",
                (codes.NotFound, "the client app owns no keys here"),
                (codes.Success, "keys listed"));

        group.MapPost("/shared-list-get", (HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) => Answer(
                pipeline.RunAsync<TSharedListGet, SharedListGetResponse<TCode>, TCode>(http, family.Name, sharedListGetType, scopes.Read,
                    async (filing, request, caller, cancellationToken) =>
                        await store.SharedPageAsync(filing, request, caller, cancellationToken) is { } page
                            ? new SharedListGetResponse<TCode>(request.RequestId, page.Keys.Length == 0 && page.IsFirst ? codes.NotFound : codes.Success, page.Keys, page.Next)
                            : SharedListGetResponse<TCode>.Answer(request.RequestId, ResultCodes<TCode>.InvalidParameters),
                    queued: store.SharedPageOnlyQueues)))
            .Document<SharedListGetResponse<TCode>, TCode, TSharedListGet>(family, "SharedListGet", "List other client apps' public keys, a page at a time",
                $"Lists public keys that other client apps own {family.Here}, in key order, `page_size` at a time. "
                + "`next_search_id` is non-empty exactly when the page is full; send it back as `search_id` for the next page. Scopes: `UserData:ReadScopes`.",
                (codes.NotFound, "a first page that finds nothing"),
                (codes.Success, "a page (possibly empty, after a full last page)"),
                (ResultCodes<TCode>.InvalidParameters, "body not JSON, wrong types, missing fields, body over 1 MiB, `page_size` 0 or over 1000, or a `search_id` this server did not issue for this caller"));

        return group;
    }

    /// <summary>An endpoint's answer on failures nothing else caught, its name, and its OpenAPI description: what it does, then a table of its result codes.</summary>
    private static RouteHandlerBuilder Document<TResponse, TCode, TRequest>(
        this RouteHandlerBuilder endpoint, Family<TCode> family, string operation, string summary, string purpose, params (TCode Code, string When)[] specific)
        where TResponse : UserDataResponse<TCode>, IUserDataResponse<TResponse, TCode>
        where TCode : struct, Enum
    {
        List<(TCode Code, string When)> common =
        [
            (ResultCodes<TCode>.TokenInvalid, "no, malformed or invalid bearer token"),
            (ResultCodes<TCode>.TokenExpired, "the token has expired"),
            (ResultCodes<TCode>.AccessDenied, family.Name == UserDataFamily.ByEmail
                ? "the token lacks a required scope, has no `email` claim, or has `email_verified` other than true"
                : "the token lacks a required scope"),
            (ResultCodes<TCode>.ServiceTemporarilyNotValid, family.Name == UserDataFamily.ByIdentityProvider
                ? "database unavailable, or no identity-provider catalog loaded yet"
                : "database unavailable"),
            (ResultCodes<TCode>.InvalidParameters, "body not JSON, wrong types, missing fields, or body over 1 MiB"),
        ];
        if (ResultCodes<TCode>.IdentityProviderNotFound is { } unknownProvider)
        {
            common.Add((unknownProvider, "`identity_provider` is not in the catalog"));
        }
        var text = new StringBuilder(purpose).Append("\n\nAlways HTTP 200; the outcome is `result`:\n\n| result | when |\n|---|---|\n");
        var rows = specific.Concat(common.Where(c => specific.All(s => !s.Code.Equals(c.Code))));
        foreach (var (code, when) in rows.OrderByDescending(c => ResultCodes<TCode>.Number(c.Code)))
        {
            text.Append("| ").Append(ResultCodes<TCode>.Number(code)).Append(" | ").Append(when).Append(" |\n");
        }
        return endpoint
            .WithErrorAnswer(new UserDataErrorAnswer<TResponse, TCode>())
            .WithName(family.OperationPrefix + operation)
            .WithSummary(summary)
            .WithDescription(text.ToString())
            .WithJsonRequestBody<TRequest>();
    }

    private static async Task<JsonAnswer<TResponse>> Answer<TResponse>(Task<TResponse> response) => new(await response);
}

/// <summary>The scopes each kind of user-data call requires, from <c>UserData:ReadScopes</c> and <c>UserData:WriteScopes</c>.</summary>
public sealed class UserDataScopes(IOptions<UserDataOptions> options)
{
    public ScopeSet Read { get; } = ScopeSet.Parse(options.Value.ReadScopes);
    public ScopeSet Write { get; } = ScopeSet.Parse(options.Value.WriteScopes);
}
