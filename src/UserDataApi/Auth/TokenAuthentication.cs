using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace UserDataApi.Auth;

/// <summary>Bearer-token validation against the configured authority (SPEC §2).</summary>
public static class TokenAuthentication
{
    /// <summary>The scheme endpoints authenticate with; it forwards to the authority or, in Development, to user-jwts.</summary>
    public const string Scheme = "Token";

    internal const string AuthorityScheme = "Authority";

    // dotnet user-jwts writes its issuer, audiences and signing key under Authentication:Schemes:Bearer.
    private const string UserJwtsScheme = JwtBearerDefaults.AuthenticationScheme;
    private const string UserJwtsSection = "Authentication:Schemes:" + UserJwtsScheme;

    private static readonly string[] AsymmetricAlgorithms =
        [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];

    public static WebApplicationBuilder AddTokenAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        var userJwtsIssuer = builder.Environment.IsDevelopment() && builder.Configuration.GetSection(UserJwtsSection + ":SigningKeys").Exists()
            ? builder.Configuration[UserJwtsSection + ":ValidIssuer"] ?? "dotnet-user-jwts"
            : null;

        // No default scheme: the authentication middleware would then validate every request's token
        // up front, signature included, before TokenChecker could answer from its cache.
        var authentication = builder.Services
            .AddAuthentication()
            .AddPolicyScheme(Scheme, "Bearer token", policy => policy.ForwardDefaultSelector =
                context => userJwtsIssuer is not null && IssuerOf(context.Request) == userJwtsIssuer ? UserJwtsScheme : AuthorityScheme)
            .AddJwtBearer(AuthorityScheme, _ => { });
        // From the validated options, not from configuration read here: a bad setting is then named by
        // start-up's check instead of failing while services are still being registered.
        builder.Services.AddOptions<JwtBearerOptions>(AuthorityScheme).Configure<IOptions<AuthOptions>, IHostEnvironment>((jwt, auth, environment) =>
        {
            var options = auth.Value;
            jwt.Authority = options.Authority;
            jwt.RequireHttpsMetadata = options.HttpsRequired(environment);
            jwt.BackchannelTimeout = TimeSpan.FromSeconds(10);
            jwt.RefreshOnIssuerKeyNotFound = true;
            jwt.RefreshInterval = TimeSpan.FromSeconds(options.KeyRefreshSeconds);
            ApplyCommonRules(jwt, TimeSpan.FromSeconds(options.ClockSkewSeconds), AsymmetricAlgorithms);
            jwt.TokenValidationParameters.ValidIssuer = options.Authority;
            jwt.TokenValidationParameters.ValidateAudience = !string.IsNullOrEmpty(options.Audience);
            jwt.TokenValidationParameters.ValidAudience = options.Audience;
        });

        if (userJwtsIssuer is not null)
        {
            // The symmetric key is configured explicitly by `dotnet user-jwts`, so HS256 is allowed for this scheme only.
            authentication.AddJwtBearer(UserJwtsScheme, _ => { });
            builder.Services.AddOptions<JwtBearerOptions>(UserJwtsScheme).Configure<IOptions<AuthOptions>>((jwt, auth) =>
                ApplyCommonRules(jwt, TimeSpan.FromSeconds(auth.Value.ClockSkewSeconds), [SecurityAlgorithms.HmacSha256]));
        }

        builder.Services.AddSingleton<TokenChecker>();
        builder.Services.AddSingleton<FailedAuthentications>();
        if (!builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<UnsetAudienceWarning>();
        }
        builder.Services.AddSingleton<ValidatedTokenCache>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    private static void ApplyCommonRules(JwtBearerOptions jwt, TimeSpan clockSkew, string[] algorithms)
    {
        jwt.MapInboundClaims = false;
        var parameters = jwt.TokenValidationParameters;
        parameters.ValidAlgorithms = algorithms;
        parameters.NameClaimType = Caller.SubjectClaim;
        // Lifetime is checked after everything else (see CheckLifetimeAndCaller), so that "expired"
        // is only ever said of a token that is otherwise valid.
        parameters.ValidateLifetime = false;
        parameters.ClockSkew = clockSkew;
        jwt.Events = new JwtBearerEvents { OnTokenValidated = context => CheckLifetimeAndCaller(context, clockSkew) };
    }

    private static Task CheckLifetimeAndCaller(TokenValidatedContext context, TimeSpan clockSkew)
    {
        var token = context.SecurityToken;
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        if (IsNotAnAccessToken(token))
        {
            // Checked first, so that an expired ID token is "invalid", never "expired": refreshing it will not help.
            context.Fail(new SecurityTokenInvalidTypeException("The token is not an access token."));
        }
        else if (token.ValidTo == DateTime.MinValue)
        {
            context.Fail(new SecurityTokenNoExpirationException("The token has no expiry."));
        }
        else if (token.ValidTo + clockSkew < now)
        {
            context.Fail(new SecurityTokenExpiredException("The token has expired.") { Expires = token.ValidTo });
        }
        else if (token.ValidFrom != DateTime.MinValue && token.ValidFrom - clockSkew > now)
        {
            context.Fail(new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = token.ValidFrom });
        }
        else if (Caller.FromClaims(context.Principal!) is null)
        {
            context.Fail(new SecurityTokenValidationException("The token names no subject or no client app."));
        }
        return Task.CompletedTask;
    }

    /// <summary>The JOSE <c>typ</c> values of access tokens: RFC 9068's, and the plain JWT most authorities write.</summary>
    private static readonly string[] AccessTokenTypes = ["at+jwt", "application/at+jwt", "JWT"];

    /// <summary>
    /// ID tokens carry <c>azp</c>, <c>sub</c> and often <c>scope</c> like access tokens, and any app that signs a user
    /// in holds one: Keycloak marks its tokens with a <c>typ</c> claim (<c>Bearer</c> for access tokens, <c>ID</c>,
    /// <c>Refresh</c>, <c>Logout</c> for the others), OpenID Connect puts a <c>nonce</c> in ID tokens, and RFC 9068
    /// gives access tokens a <c>typ</c> header of their own.
    /// </summary>
    private static bool IsNotAnAccessToken(SecurityToken token) =>
        token is JsonWebToken jwt
        && ((!string.IsNullOrEmpty(jwt.Typ) && !AccessTokenTypes.Contains(jwt.Typ, StringComparer.OrdinalIgnoreCase))
            || (jwt.TryGetPayloadValue<string>("typ", out var type) && !string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
            || jwt.TryGetClaim("nonce", out _));

    private static string? IssuerOf(HttpRequest request)
    {
        var token = TokenChecker.BearerTokenOf(request);
        var handler = new JsonWebTokenHandler();
        if (token is null || !handler.CanReadToken(token))
        {
            return null;
        }
        try
        {
            return handler.ReadJsonWebToken(token).Issuer;
        }
        catch (ArgumentException)
        {
            // Three dots' worth of shape but no JWT inside: the forwarded scheme refuses it as -1.
            return null;
        }
    }
}

/// <summary>
/// Says once, at start-up, that any token of the authority is accepted: without <c>Auth:Audience</c>, a token the
/// authority issued for another service (whose operators could replay it here) passes as well.
/// </summary>
internal sealed class UnsetAudienceWarning(IOptions<AuthOptions> options, ILogger<UnsetAudienceWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(options.Value.Audience))
        {
            return Task.CompletedTask;
        }
        logger.LogWarning("Auth:Audience is not set: tokens the authority issued for any other service are accepted too; set it to this API's audience");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
