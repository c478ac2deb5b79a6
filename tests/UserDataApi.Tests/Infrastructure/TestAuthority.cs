using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>How one of the test authority's documents answers.</summary>
public enum DocumentMode
{
    /// <summary>The document is served (listing <see cref="TestAuthority.IdentityProviders"/>).</summary>
    Serve,
    /// <summary>The document answers 500.</summary>
    Fail,
    /// <summary>The document is not JSON.</summary>
    Garbage,
}

/// <summary>
/// A real OpenID authority on 127.0.0.1: a discovery document (with <c>identity_providers</c>) and a
/// JWKS served over HTTP, and RSA-signed tokens that the server validates through them.
/// </summary>
public sealed class TestAuthority : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _signingKey;

    private TestAuthority(WebApplication app, RsaSecurityKey signingKey)
    {
        _app = app;
        _signingKey = signingKey;
    }

    public string Issuer { get; private set; } = "";

    public List<string> IdentityProviders { get; } = ["telegram", "google", "Apple"];

    /// <summary>How the OpenID discovery document (which also lists the identity providers) answers.</summary>
    public DocumentMode Discovery { get; set; } = DocumentMode.Serve;

    /// <summary>How <see cref="CatalogUrl"/>, a document with only <c>identity_providers</c>, answers.</summary>
    public DocumentMode Catalog { get; set; } = DocumentMode.Serve;

    public string CatalogUrl => Issuer + "/catalog";

    public static async Task<TestAuthority> StartAsync()
    {
        var signingKey = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-key-1" };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var authority = new TestAuthority(app, signingKey);
        app.MapGet("/.well-known/openid-configuration", () => authority.Document(authority.Discovery, withKeys: true));
        app.MapGet("/catalog", () => authority.Document(authority.Catalog, withKeys: false));
        app.MapGet("/jwks", authority.Jwks);
        await app.StartAsync();
        authority.Issuer = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return authority;
    }

    /// <summary>A signed access token; every part can be overridden to build a bad one.</summary>
    public string CreateToken(
        string? userId = "user-1",
        string? clientApp = "app-1",
        string scopes = "email user-data-get user-data-set",
        DateTime? expires = null,
        DateTime? notBefore = null,
        string? issuer = null,
        SecurityKey? signingKey = null)
    {
        var claims = new Dictionary<string, object> { ["scope"] = scopes };
        if (userId is not null)
        {
            claims["sub"] = userId;
        }
        if (clientApp is not null)
        {
            claims["azp"] = clientApp;
        }
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Claims = claims,
            IssuedAt = (notBefore ?? now).AddSeconds(-1),
            NotBefore = notBefore ?? now.AddSeconds(-1),
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(signingKey ?? _signingKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private IResult Document(DocumentMode mode, bool withKeys)
    {
        if (mode == DocumentMode.Fail)
        {
            return Results.StatusCode(StatusCodes.Status500InternalServerError);
        }
        if (mode == DocumentMode.Garbage)
        {
            return Results.Text("<html>not a discovery document</html>", "application/json");
        }
        var document = new JsonObject
        {
            ["identity_providers"] = new JsonArray(IdentityProviders.Select(p => (JsonNode)p!).ToArray()),
        };
        if (withKeys)
        {
            document["issuer"] = Issuer;
            document["jwks_uri"] = Issuer + "/jwks";
            document["id_token_signing_alg_values_supported"] = new JsonArray("RS256");
        }
        return Results.Json(document);
    }

    private IResult Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_signingKey.Rsa.ExportParameters(false)) { KeyId = _signingKey.KeyId });
        return Results.Json(new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E,
            }),
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
