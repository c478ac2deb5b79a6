using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Hosting;

namespace UserDataApi.UserData;

/// <summary>The HyperID-compatible "user data by identity provider" endpoints (SPEC §3).</summary>
public static class UserDataEndpoints
{
    public static WebApplicationBuilder AddUserData(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<UserDataOptions>(builder.Configuration.GetSection(UserDataOptions.Section));
        builder.Services.AddSingleton<UserDataPipeline>();
        builder.Services.AddSingleton<UserDataScopes>();
        builder.Services.AddScoped<UserDataStore>();
        builder.Services.AddSingleton<FluentValidation.IValidator<GetRequest>, GetRequestValidator>();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, UserDataJsonContext.Default));
        return builder;
    }

    public static IEndpointRouteBuilder MapUserData(this IEndpointRouteBuilder app)
    {
        // Token and scope failures are answers of the contract (HTTP 200 with -1/-2/-3), so the
        // pipeline checks them itself instead of the authorization middleware.
        var group = app.MapGroup("/user-data/by-idp").WithTags("User data by identity provider");

        group.MapPost("/get", GetAsync)
            .WithName("UserDataGet")
            .WithSummary("Read values by key")
            .WithDescription(Describe(
                "Returns, for each requested key, the record when the caller's client app owns it or it is public. Scopes: `UserData:ReadScopes`.",
                (ResultCode.SuccessNotFound, "none of the keys is visible"),
                (ResultCode.Success, "at least one value is returned"),
                (ResultCode.KeysSizeLimitReached, "more keys than `UserData:MaxKeysPerRequest`")))
            .WithJsonRequestBody<GetRequest>();

        return app;
    }

    private static Task<Ok<GetResponse>> GetAsync(HttpContext http, UserDataPipeline pipeline, UserDataScopes scopes, UserDataStore store) =>
        Answer(pipeline.RunAsync(http, UserDataJsonContext.Default.GetRequest, scopes.Read, store.GetAsync));

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
        foreach (var (code, when) in specific.Concat(common).OrderByDescending(c => (int)c.Code))
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
