using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

/// <summary>SPEC §2: forged, tampered and out-of-bounds tokens get -1/-2 from user data and 401 from intents, never a success.</summary>
public sealed class TokenAttackTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private const string AllScopes = "email user-data-get user-data-set idp-intents";

    private TestAuthority Authority => fixture.Authority;

    public static TheoryData<string, ByIdpResultCode> Attacks => new()
    {
        { "alg none", ByIdpResultCode.TokenInvalid },
        { "alg None", ByIdpResultCode.TokenInvalid },
        { "alg NONE, the real signature kept", ByIdpResultCode.TokenInvalid },
        { "HS256 keyed with the public key as PEM", ByIdpResultCode.TokenInvalid },
        { "HS256 keyed with the public key as DER", ByIdpResultCode.TokenInvalid },
        { "HS256 keyed with the JWKS modulus", ByIdpResultCode.TokenInvalid },
        { "HS256 keyed with the JWKS document", ByIdpResultCode.TokenInvalid },
        { "RS512 signed with the authority's key", ByIdpResultCode.TokenInvalid },
        { "the authority's kid on another key", ByIdpResultCode.TokenInvalid },
        { "an unknown kid", ByIdpResultCode.TokenInvalid },
        { "a kid with path traversal", ByIdpResultCode.TokenInvalid },
        { "a kid with SQL", ByIdpResultCode.TokenInvalid },
        { "a kid that is a URL", ByIdpResultCode.TokenInvalid },
        { "no kid, another key", ByIdpResultCode.TokenInvalid },
        { "jku pointing to another JWKS", ByIdpResultCode.TokenInvalid },
        { "x5u pointing to another key", ByIdpResultCode.TokenInvalid },
        { "an embedded jwk", ByIdpResultCode.TokenInvalid },
        { "the signature stripped", ByIdpResultCode.TokenInvalid },
        { "the payload swapped after signing", ByIdpResultCode.TokenInvalid },
        { "five parts", ByIdpResultCode.TokenInvalid },
        { "a 100 KiB forged token", ByIdpResultCode.TokenInvalid },
        { "expired", ByIdpResultCode.TokenExpired },
        { "expired a year ago", ByIdpResultCode.TokenExpired },
        { "expired and signed with another key", ByIdpResultCode.TokenInvalid },
        { "not yet valid", ByIdpResultCode.TokenInvalid },
        { "a wrong issuer", ByIdpResultCode.TokenInvalid },
        { "the issuer with a trailing slash", ByIdpResultCode.TokenInvalid },
        { "no issuer", ByIdpResultCode.TokenInvalid },
        { "no sub", ByIdpResultCode.TokenInvalid },
        { "an empty sub", ByIdpResultCode.TokenInvalid },
        { "no client app", ByIdpResultCode.TokenInvalid },
        { "no exp", ByIdpResultCode.TokenInvalid },
        { "exp not a number", ByIdpResultCode.TokenInvalid },
        { "an ID token (Keycloak's typ claim ID)", ByIdpResultCode.TokenInvalid },
        { "an ID token (a nonce claim)", ByIdpResultCode.TokenInvalid },
        { "an expired ID token", ByIdpResultCode.TokenInvalid },
        { "a JOSE typ other than an access token's", ByIdpResultCode.TokenInvalid },
        { "a Keycloak refresh token (typ claim Refresh)", ByIdpResultCode.TokenInvalid },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task An_attack_token_never_succeeds(string attack, ByIdpResultCode expected)
    {
        var user = UserDataFixture.NewUser();
        var (token, other) = await TokenAsync(attack, user);
        await using var _ = other;
        var otherKeySetRequests = other?.KeySetRequests;

        var set = await fixture.Client.PostAsync("set", new { identity_provider = "telegram", value_key = "k", value_data = "v" }, token);
        var get = await fixture.Client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, token);
        using var intents = fixture.Api.CreateClient();
        intents.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var links = await intents.PostAsync("/v2/users/u1/links/_search", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal((int)expected, set.Result());
        Assert.Equal((int)expected, get.Result());
        Assert.Equal(HttpStatusCode.Unauthorized, links.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (StatusCode)JsonDocument.Parse(await links.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
        Assert.Equal(otherKeySetRequests, other?.KeySetRequests);
    }

    [Theory]
    [InlineData("at+jwt", null)]
    [InlineData("application/at+jwt", null)]
    [InlineData("JWT", "Bearer")]
    public async Task Access_tokens_as_authorities_type_them_are_accepted(string header, string? typeClaim)
    {
        var token = Authority.CreateToken(UserDataFixture.NewUser(), scopes: AllScopes, tweak: d =>
        {
            d.TokenType = header;
            if (typeClaim is not null)
            {
                d.Claims["typ"] = typeClaim;
            }
        });

        var answer = await fixture.Client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, token);

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
    }

    [Fact]
    public async Task A_token_signed_with_RS256_or_PS256_by_the_authoritys_key_is_accepted()
    {
        var get = new { identity_provider = "telegram", value_keys = new[] { "k" } };

        foreach (var algorithm in new[] { SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256 })
        {
            var token = Authority.CreateToken(UserDataFixture.NewUser(), scopes: AllScopes,
                tweak: d => d.SigningCredentials = new SigningCredentials(d.SigningCredentials.Key, algorithm));
            var answer = await fixture.Client.PostAsync("get", get, token);
            Assert.True(answer.Result() == (int)ByIdpResultCode.SuccessNotFound, $"{algorithm}: {answer}");
        }
    }

    [Fact]
    public async Task With_an_audience_configured_tokens_for_another_audience_or_none_are_refused()
    {
        await using var api = await new ApiFactory(Authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["Auth:Audience"] = "userdataapi" }).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        var get = new { identity_provider = "telegram", value_keys = new[] { "k" } };
        string WithAudience(object? audience) => Authority.CreateToken(scopes: AllScopes, tweak: d =>
        {
            if (audience is not null)
            {
                d.Claims["aud"] = audience;
            }
        });

        // (IdentityModel ignores one trailing slash, as audiences are often URLs: "userdataapi/" passes.)
        foreach (var audience in new object?[] { null, "another-api", new[] { "another-api", "yet-another" }, "USERDATAAPI", "userdataapi2" })
        {
            var answer = await client.PostAsync("get", get, WithAudience(audience));
            Assert.True(answer.Result() == (int)ByIdpResultCode.TokenInvalid, $"aud {JsonSerializer.Serialize(audience)}: {answer}");
        }
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", get, WithAudience("userdataapi"))).Result());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", get, WithAudience(new[] { "another-api", "userdataapi" }))).Result());
        using var intents = api.CreateClient();
        intents.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WithAudience("another-api"));
        using var refused = await intents.PostAsync("/v2/users/u1/links/_search", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Outside_development_start_up_warns_in_one_line_when_no_audience_is_set_and_is_silent_when_one_is()
    {
        var unset = new LogCapture();
        var set = new LogCapture();

        await using (await new ApiFactory(Authority, await TestPostgres.CreateDatabaseAsync(), logs: unset).StartedAsync())
        await using (await new ApiFactory(Authority, await TestPostgres.CreateDatabaseAsync(),
                         new Dictionary<string, string?> { ["Auth:Audience"] = "userdataapi" }, set).StartedAsync())
        {
            var warning = Assert.Single(unset.Lines, line => line.Message.Contains("Auth:Audience"));
            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
            Assert.DoesNotContain(set.Lines, line => line.Message.Contains("Auth:Audience"));
        }
    }

    /// <summary>The attack's token, and the other authority it involves, if any (whose JWKS the server must never fetch).</summary>
    private async Task<(string Token, TestAuthority? Other)> TokenAsync(string attack, string user)
    {
        var other = attack is "a kid that is a URL" or "jku pointing to another JWKS" or "x5u pointing to another key" or "an embedded jwk"
            ? await TestAuthority.StartAsync()
            : null;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Authority.Issuer, ["sub"] = user, ["azp"] = "app-1", ["scope"] = AllScopes,
            ["iat"] = now - 1, ["nbf"] = now - 1, ["exp"] = now + 600,
        };
        var real = Authority.CreateToken(user, scopes: AllScopes);
        using var http = new HttpClient();
        var keySet = await http.GetStringAsync(Authority.KeySetUrl);
        var keys = JsonNode.Parse(keySet)!["keys"]![0]!;
        using var publicKey = RSA.Create(new RSAParameters
        {
            Modulus = Base64UrlEncoder.DecodeBytes(keys["n"]!.GetValue<string>()),
            Exponent = Base64UrlEncoder.DecodeBytes(keys["e"]!.GetValue<string>()),
        });
        var kid = keys["kid"]!.GetValue<string>();
        static SecurityKey AnotherKey(string? kid) => new RsaSecurityKey(RSA.Create(2048)) { KeyId = kid };
        string Hs256(byte[] secret) => Compact(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = kid }, claims, data => HMACSHA256.HashData(secret, data));
        string FromOther(string header, object value) => other!.CreateToken(user, scopes: AllScopes, issuer: Authority.Issuer,
            tweak: d => d.AdditionalHeaderClaims = new Dictionary<string, object> { [header] = value });

        var token = attack switch
        {
            "alg none" => Compact(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }, claims, null),
            "alg None" => Compact(new JsonObject { ["alg"] = "None", ["typ"] = "JWT" }, claims, null),
            "alg NONE, the real signature kept" => string.Join('.', Base64UrlEncoder.Encode("""{"alg":"NONE","typ":"JWT"}"""), real.Split('.')[1], real.Split('.')[2]),
            "HS256 keyed with the public key as PEM" => Hs256(Encoding.ASCII.GetBytes(publicKey.ExportSubjectPublicKeyInfoPem())),
            "HS256 keyed with the public key as DER" => Hs256(publicKey.ExportSubjectPublicKeyInfo()),
            "HS256 keyed with the JWKS modulus" => Hs256(Base64UrlEncoder.DecodeBytes(keys["n"]!.GetValue<string>())),
            "HS256 keyed with the JWKS document" => Hs256(Encoding.UTF8.GetBytes(keySet)),
            "RS512 signed with the authority's key" => Authority.CreateToken(user, scopes: AllScopes,
                tweak: d => d.SigningCredentials = new SigningCredentials(d.SigningCredentials.Key, SecurityAlgorithms.RsaSha512)),
            "the authority's kid on another key" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey(kid)),
            "an unknown kid" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey("unknown-key")),
            "a kid with path traversal" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey("../../../../../../dev/null")),
            "a kid with SQL" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey("x' OR '1'='1")),
            "a kid that is a URL" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey(other!.KeySetUrl)),
            "no kid, another key" => Authority.CreateToken(user, scopes: AllScopes, signingKey: AnotherKey(null)),
            "jku pointing to another JWKS" => FromOther("jku", other!.KeySetUrl),
            "x5u pointing to another key" => FromOther("x5u", other!.KeySetUrl),
            "an embedded jwk" => FromOther("jwk", JsonSerializer.Deserialize<Dictionary<string, object>>(
                JsonNode.Parse(await http.GetStringAsync(other!.KeySetUrl))!["keys"]![0]!.ToJsonString())!),
            "the signature stripped" => real[..(real.LastIndexOf('.') + 1)],
            "the payload swapped after signing" => SwapPayload(real, claims),
            "five parts" => real + ".AAAA.BBBB",
            "a 100 KiB forged token" => Compact(new JsonObject { ["alg"] = "RS256", ["kid"] = kid }, With(claims, "pad", new string('x', 100 * 1024)),
                data => RandomNumberGenerator.GetBytes(256)),
            "expired" => Authority.CreateToken(user, scopes: AllScopes, notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-5)),
            "expired a year ago" => Authority.CreateToken(user, scopes: AllScopes, notBefore: DateTime.UtcNow.AddYears(-1), expires: DateTime.UtcNow.AddYears(-1).AddHours(1)),
            "expired and signed with another key" => Authority.CreateToken(user, scopes: AllScopes, notBefore: DateTime.UtcNow.AddHours(-1),
                expires: DateTime.UtcNow.AddMinutes(-5), signingKey: AnotherKey(kid)),
            "not yet valid" => Authority.CreateToken(user, scopes: AllScopes, notBefore: DateTime.UtcNow.AddMinutes(10), expires: DateTime.UtcNow.AddMinutes(20)),
            "a wrong issuer" => Authority.CreateToken(user, scopes: AllScopes, issuer: "https://login.evil.example"),
            "the issuer with a trailing slash" => Authority.CreateToken(user, scopes: AllScopes, issuer: Authority.Issuer + "/"),
            "no issuer" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.Issuer = null),
            "no sub" => Authority.CreateToken(null, scopes: AllScopes),
            "an empty sub" => Authority.CreateToken("", scopes: AllScopes),
            "no client app" => Authority.CreateToken(user, clientApp: null, scopes: AllScopes),
            "no exp" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.Expires = null),
            "exp not a number" => Authority.CreateToken(user, scopes: AllScopes, tweak: d =>
            {
                d.Expires = null;
                d.Claims["exp"] = "tomorrow";
            }),
            "an ID token (Keycloak's typ claim ID)" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.Claims["typ"] = "ID"),
            "an ID token (a nonce claim)" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.Claims["nonce"] = "n-0S6_WzA2Mj"),
            "an expired ID token" => Authority.CreateToken(user, scopes: AllScopes, notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-5),
                tweak: d => d.Claims["typ"] = "ID"),
            "a Keycloak refresh token (typ claim Refresh)" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.Claims["typ"] = "Refresh"),
            "a JOSE typ other than an access token's" => Authority.CreateToken(user, scopes: AllScopes, tweak: d => d.TokenType = "id_token+jwt"),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };
        return (token, other);
    }

    private static JsonObject With(JsonObject claims, string name, string value)
    {
        var copy = claims.DeepClone().AsObject();
        copy[name] = value;
        return copy;
    }

    /// <summary>A token that keeps the real header and signature but carries other claims (another user's).</summary>
    private static string SwapPayload(string real, JsonObject claims)
    {
        var parts = real.Split('.');
        return string.Join('.', parts[0], Base64UrlEncoder.Encode(With(claims, "sub", "someone-else").ToJsonString()), parts[2]);
    }

    /// <summary>A compact JWS built by hand, signed by <paramref name="sign"/> (or with an empty signature).</summary>
    private static string Compact(JsonObject header, JsonObject payload, Func<byte[], byte[]>? sign)
    {
        var signingInput = Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());
        var signature = sign is null ? "" : Base64UrlEncoder.Encode(sign(Encoding.ASCII.GetBytes(signingInput)));
        return signingInput + "." + signature;
    }
}
