using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using Microsoft.AspNetCore;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>A person the test provider knows, with the claims it releases about them.</summary>
public sealed record ProviderUser(
    string Subject, string UserName, string Password, string GivenName, string FamilyName, string NickName,
    string Name, string? Locale, string Email, bool EmailVerified, string? Phone, bool PhoneVerified);

/// <summary>
/// A real OpenID Connect provider on 127.0.0.1, built with OpenIddict (authorization code + PKCE,
/// ID tokens signed with its own key, user info), with a cookie login form. Its store is a
/// PostgreSQL database of its own.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "userdataapi";
    public const string ClientSecret = "provider-client-secret-0123456789";

    private readonly WebApplication _app;

    private TestIdentityProvider(WebApplication app) => _app = app;

    public string Issuer { get; private set; } = "";

    public static readonly ProviderUser Alice = new(
        "alice-sub-001", "alice", "alice-password", "Alice", "Liddell", "ali", "Alice Liddell", "en-GB",
        "alice@example.com", true, "+441234567890", false);

    public static readonly ProviderUser Bob = new(
        "bob-sub-002", "bob", "bob-password", "Bob", "Builder", "bobby", "Bob Builder", null,
        "bob@example.com", false, null, false);

    /// <summary>Signs in, then refuses consent: the provider answers error=access_denied.</summary>
    public static readonly ProviderUser Refuser = new(
        "refuser-sub-003", "refuser", "refuser-password", "Re", "Fuser", "no", "Re Fuser", null, "no@example.com", false, null, false);

    private static readonly ProviderUser[] Users = [Alice, Bob, Refuser];

    public static async Task<TestIdentityProvider> StartAsync(string connectionString, IEnumerable<string> redirectUris)
    {
        var builder = LoopbackApp.CreateBuilder(slim: false);
        builder.Services.AddDbContext<ProviderDbContext>(options =>
        {
            options.UseNpgsql(connectionString);
            options.UseOpenIddict();
        });
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie => cookie.LoginPath = "/login");
        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<ProviderDbContext>())
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetUserInfoEndpointUris("connect/userinfo");
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Phone);
                server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                server.DisableAccessTokenEncryption();
                server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
            });

        var app = builder.Build();
        app.UseAuthentication();
        app.MapGet("/login", (string? returnUrl) => Results.Content(
            $"""<form method="post"><input name="username"><input name="password" type="password"><input type="hidden" name="returnUrl" value="{System.Net.WebUtility.HtmlEncode(returnUrl)}"><button>Sign in</button></form>""",
            "text/html"));
        app.MapPost("/login", (Delegate)SignInAsync);
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], (Delegate)AuthorizeAsync);
        app.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], (Delegate)UserInfoAsync);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProviderDbContext>().Database.EnsureCreatedAsync();
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var descriptor = new OpenIddictApplicationDescriptor
            {
                ClientId = ClientId,
                ClientSecret = ClientSecret,
                ClientType = ClientTypes.Confidential,
                Permissions =
                {
                    Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode,
                    Permissions.ResponseTypes.Code, Permissions.Scopes.Email, Permissions.Scopes.Profile, Permissions.Scopes.Phone,
                },
                Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            };
            foreach (var uri in redirectUris)
            {
                descriptor.RedirectUris.Add(new Uri(uri));
            }
            await applications.CreateAsync(descriptor);
        }

        var issuer = await LoopbackApp.StartAsync(app) + "/";
        var provider = new TestIdentityProvider(app)
        {
            Issuer = issuer,
        };
        // The first requests build OpenIddict's caches; do that here, not inside a test's time limits.
        using var warmUp = new HttpClient();
        await warmUp.GetStringAsync(provider.Issuer + ".well-known/openid-configuration");
        await warmUp.GetStringAsync(provider.Issuer + ".well-known/jwks");
        return provider;
    }

    private static async Task<IResult> SignInAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var user = Users.SingleOrDefault(u => u.UserName == form["username"] && u.Password == form["password"]);
        if (user is null)
        {
            return Results.Unauthorized();
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.UserName)], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Redirect(form["returnUrl"].ToString());
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()!;
        var login = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        if (!login.Succeeded)
        {
            return Results.Challenge(
                new AuthenticationProperties { RedirectUri = context.Request.PathBase + context.Request.Path + context.Request.QueryString },
                [CookieAuthenticationDefaults.AuthenticationScheme]);
        }
        var user = Users.Single(u => u.UserName == login.Principal!.Identity!.Name);
        if (user == Refuser)
        {
            return Results.Forbid(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user refused the request.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        foreach (var (type, value, valueType) in ClaimsOf(user))
        {
            identity.AddClaim(new Claim(type, value, valueType));
        }
        identity.SetScopes(request.GetScopes());
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> UserInfoAsync(HttpContext context)
    {
        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var user = Users.Single(u => u.Subject == principal!.GetClaim(Claims.Subject));
        var info = new Dictionary<string, object>();
        foreach (var (type, value, valueType) in ClaimsOf(user))
        {
            info[type] = valueType == ClaimValueTypes.Boolean ? bool.Parse(value) : value;
        }
        return Results.Json(info);
    }

    /// <summary>The standard claims released for a user: what retrieve must hand back.</summary>
    public static IEnumerable<(string Type, string Value, string ValueType)> ClaimsOf(ProviderUser user)
    {
        yield return (Claims.Subject, user.Subject, ClaimValueTypes.String);
        yield return (Claims.PreferredUsername, user.UserName, ClaimValueTypes.String);
        yield return (Claims.Name, user.Name, ClaimValueTypes.String);
        yield return (Claims.GivenName, user.GivenName, ClaimValueTypes.String);
        yield return (Claims.FamilyName, user.FamilyName, ClaimValueTypes.String);
        yield return (Claims.Nickname, user.NickName, ClaimValueTypes.String);
        if (user.Locale is not null)
        {
            yield return (Claims.Locale, user.Locale, ClaimValueTypes.String);
        }
        yield return (Claims.Email, user.Email, ClaimValueTypes.String);
        yield return (Claims.EmailVerified, user.EmailVerified ? "true" : "false", ClaimValueTypes.Boolean);
        if (user.Phone is not null)
        {
            yield return (Claims.PhoneNumber, user.Phone, ClaimValueTypes.String);
            yield return (Claims.PhoneNumberVerified, user.PhoneVerified ? "true" : "false", ClaimValueTypes.Boolean);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private sealed class ProviderDbContext(DbContextOptions<ProviderDbContext> options) : DbContext(options);
}
