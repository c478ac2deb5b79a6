using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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
    /// <summary>The connection is dropped without an answer, as when the host cannot be reached.</summary>
    Unreachable,
}

/// <summary>
/// A real OpenID authority on 127.0.0.1: a discovery document (with <c>identity_providers</c>) and a
/// JWKS served over HTTP, and RSA-signed tokens that the server validates through them. Its signing
/// key can be rotated, and each document can be made to fail.
/// </summary>
public sealed class TestAuthority : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<RsaSecurityKey> _publishedKeys = [];
    private volatile RsaSecurityKey _signingKey = null!;
    private int _keySetRequests;

    private TestAuthority(WebApplication app)
    {
        _app = app;
        RotateSigningKey();
    }

    public string Issuer { get; private set; } = "";

    public List<string> IdentityProviders { get; } = ["telegram", "google", "Apple"];

    /// <summary>How the OpenID discovery document (which also lists the identity providers) answers.</summary>
    public DocumentMode Discovery { get; set; } = DocumentMode.Serve;

    /// <summary>How <see cref="CatalogUrl"/>, a document with only <c>identity_providers</c>, answers.</summary>
    public DocumentMode Catalog { get; set; } = DocumentMode.Serve;

    /// <summary>How the JWKS answers.</summary>
    public DocumentMode KeySet { get; set; } = DocumentMode.Serve;

    /// <summary>How many times the JWKS has been asked for.</summary>
    public int KeySetRequests => Volatile.Read(ref _keySetRequests);

    public string CatalogUrl => Issuer + "/catalog";

    public string KeySetUrl => Issuer + "/jwks";

    /// <summary>
    /// Signs from now on with a new key (kid <c>test-key-N</c>), published beside the earlier ones
    /// as an authority does during a rotation; returns the new kid.
    /// </summary>
    public string RotateSigningKey()
    {
        lock (_publishedKeys)
        {
            _signingKey = new RsaSecurityKey(RSA.Create(2048)) { KeyId = $"test-key-{_publishedKeys.Count + 1}" };
            _publishedKeys.Add(_signingKey);
            return _signingKey.KeyId;
        }
    }

    public static async Task<TestAuthority> StartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        var authority = new TestAuthority(app);
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) => Answer(context, authority.Discovery, () => authority.Document(withKeys: true)));
        app.MapGet("/catalog", (HttpContext context) => Answer(context, authority.Catalog, () => authority.Document(withKeys: false)));
        app.MapGet("/jwks", (HttpContext context) =>
        {
            Interlocked.Increment(ref authority._keySetRequests);
            return Answer(context, authority.KeySet, authority.Jwks);
        });
        authority.Issuer = await LoopbackApp.StartAsync(app);
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
        SecurityKey? signingKey = null,
        Action<SecurityTokenDescriptor>? tweak = null)
    {
        var claims = new Dictionary<string, object> { ["scope"] = scopes };
        if (userId is not null)
        {
            claims["sub"] = userId;
            // A verified address of the user's own, which by-email files under (tests of by-email change or remove it).
            claims["email"] = $"{userId}@mail.test";
            claims["email_verified"] = true;
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
        tweak?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static IResult Answer(HttpContext context, DocumentMode mode, Func<JsonObject> document)
    {
        switch (mode)
        {
            case DocumentMode.Fail:
                return Results.StatusCode(StatusCodes.Status500InternalServerError);
            case DocumentMode.Garbage:
                return Results.Text("<html>not a discovery document</html>", "application/json");
            case DocumentMode.Unreachable:
                context.Abort();
                return Results.Empty;
            default:
                return Results.Json(document());
        }
    }

    private JsonObject Document(bool withKeys)
    {
        var document = new JsonObject
        {
            ["identity_providers"] = new JsonArray(IdentityProviders.Select(p => (JsonNode)p!).ToArray()),
        };
        if (withKeys)
        {
            document["issuer"] = Issuer;
            document["jwks_uri"] = KeySetUrl;
            document["id_token_signing_alg_values_supported"] = new JsonArray("RS256");
        }
        return document;
    }

    private JsonObject Jwks()
    {
        lock (_publishedKeys)
        {
            return new JsonObject
            {
                ["keys"] = new JsonArray(_publishedKeys.Select(key =>
                {
                    var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
                    return (JsonNode)new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E };
                }).ToArray()),
            };
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
