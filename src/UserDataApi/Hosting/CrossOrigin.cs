using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

/// <summary>The origins of browser apps that may call the API cross-origin (configuration section <c>Cors</c>, SPEC §3.5).</summary>
public sealed class CrossOriginOptions
{
    public const string Section = "Cors";
    public const string AnyOrigin = "*";

    /// <summary>Origins such as <c>https://app.example</c>, or <c>*</c> for any; none by default (no CORS header is sent).</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

internal sealed class CrossOriginOptionsValidator : IValidateOptions<CrossOriginOptions>
{
    private const string Key = CrossOriginOptions.Section + ":" + nameof(CrossOriginOptions.AllowedOrigins);

    public ValidateOptionsResult Validate(string? name, CrossOriginOptions options) =>
        SettingRules.Result(options.AllowedOrigins.Select(origin => origin == CrossOriginOptions.AnyOrigin || IsOrigin(origin)
            ? null
            : $"{Key} holds '{origin}', which is not an origin: write scheme://host[:port] (http or https, no path), or *."));

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
        && !origin.EndsWith('/');
}

/// <summary>
/// CORS for the endpoints that browser apps call with a bearer token (each API family marks its own with
/// <see cref="AllowBrowserCallers{TBuilder}"/>). No cookies are used, so credentials are never allowed.
/// </summary>
public static class CrossOrigin
{
    private const string Policy = "BrowserCallers";

    /// <summary>How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours, Firefox at 24).</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromHours(2);

    /// <summary>Methods the marked endpoints are called with: POST everywhere, and DELETE on the REST gateway.</summary>
    public static readonly string[] Methods = [HttpMethods.Post, HttpMethods.Delete];

    /// <summary>Request headers of bearer-token JSON calls, and those of the Connect and gRPC-Web protocols.</summary>
    public static readonly string[] RequestHeaders =
    [
        "Authorization", "Content-Type",
        "Connect-Protocol-Version", "Connect-Timeout-Ms", "Connect-Accept-Encoding", "Connect-Content-Encoding",
        "Grpc-Timeout", "X-Grpc-Web", "X-User-Agent",
    ];

    /// <summary>Answer headers scripts may read: gRPC-Web's status in trailers-only answers, and rate limits' Retry-After.</summary>
    public static readonly string[] ExposedHeaders = ["Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Retry-After"];

    public static WebApplicationBuilder AddCrossOrigin(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(CrossOriginOptions.Section);
        builder.Services.AddOptions<CrossOriginOptions>().Bind(section).ValidateOnStart();
        builder.Services.PostConfigure<CrossOriginOptions>(options =>
            options.AllowedOrigins.AddRange(SettingRules.ItemsOf(section[nameof(CrossOriginOptions.AllowedOrigins)])));
        builder.Services.AddSingleton<IValidateOptions<CrossOriginOptions>, CrossOriginOptionsValidator>();
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CrossOriginOptions>>((cors, settings) => cors.AddPolicy(Policy, policy =>
            {
                var origins = settings.Value.AllowedOrigins;
                if (origins.Contains(CrossOriginOptions.AnyOrigin))
                {
                    // Named back rather than "*", as for a listed origin.
                    policy.SetIsOriginAllowed(_ => true);
                }
                else
                {
                    policy.WithOrigins([.. origins]);
                }
                policy.WithMethods(Methods).WithHeaders(RequestHeaders).WithExposedHeaders(ExposedHeaders).SetPreflightMaxAge(PreflightMaxAge);
            }));
        return builder;
    }

    public static WebApplication UseCrossOrigin(this WebApplication app)
    {
        app.UseCors();
        return app;
    }

    /// <summary>Lets browser apps of <c>Cors:AllowedOrigins</c> call these endpoints; preflights are answered 204.</summary>
    public static TBuilder AllowBrowserCallers<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireCors(Policy);
}
