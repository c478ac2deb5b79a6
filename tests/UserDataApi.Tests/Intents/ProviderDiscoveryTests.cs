using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// An OIDC provider's discovery document is trusted only when it names the configured issuer and, unless
/// <c>RequireHttpsMetadata</c> is off, sends the user, the code and the tokens only to https endpoints.
/// </summary>
public sealed class ProviderDiscoveryTests : IAsyncLifetime
{
    private readonly IntentFixture _intents = new();
    private readonly CertificateFileOnDisk _certificate = TestCertificates.Create("discovery-test");
    private readonly LogCapture _logs = new();
    private WebApplication _discovery = null!;
    private ApiFactory _api = null!;
    private string _base = "";

    /// <summary>Each document by name: what it changes in a document that would be trusted.</summary>
    private static readonly Dictionary<string, Action<JsonObject, string>> Documents = new()
    {
        ["trusted"] = (_, _) => { },
        ["plain-token-endpoint"] = (document, _) => document["token_endpoint"] = "http://127.0.0.1:1/token",
        ["plain-userinfo-endpoint"] = (document, _) => document["userinfo_endpoint"] = "http://127.0.0.1:1/userinfo",
        ["plain-authorization-endpoint"] = (document, _) => document["authorization_endpoint"] = "http://127.0.0.1:1/authorize",
        ["another-issuer"] = (document, _) => document["issuer"] = "https://login.evil.example",
        ["issuer-of-a-sibling"] = (document, issuer) => document["issuer"] = issuer.Replace("issuer-of-a-sibling", "trusted"),
        ["no-token-endpoint"] = (document, _) => document.Remove("token_endpoint"),
    };

    public async Task InitializeAsync()
    {
        await _intents.InitializeAsync();
        _discovery = LoopbackApp.CreateBuilder(https: _certificate.Certificate).Build();
        _discovery.MapGet("/{name}/.well-known/openid-configuration", (string name) =>
        {
            var issuer = $"{_base}/{name}";
            var document = new JsonObject
            {
                ["issuer"] = issuer,
                ["authorization_endpoint"] = issuer + "/authorize",
                ["token_endpoint"] = issuer + "/token",
                ["userinfo_endpoint"] = issuer + "/userinfo",
                ["jwks_uri"] = issuer + "/jwks",
                ["response_types_supported"] = new JsonArray("code"),
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            };
            Documents[name](document, issuer);
            return Results.Json(document);
        });
        _discovery.MapGet("/{name}/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        _base = await LoopbackApp.StartAsync(_discovery);

        var settings = new Dictionary<string, string?>();
        foreach (var name in Documents.Keys)
        {
            settings[$"Intents:Providers:{name}:Issuer"] = $"{_base}/{name}";
            settings[$"Intents:Providers:{name}:ClientId"] = "userdataapi";
        }
        _api = await _intents.StartInstanceAsync(settings, _logs, services => services.ConfigureHttpClientDefaults(client =>
            client.ConfigurePrimaryHttpMessageHandler(() => LoopbackApp.Trusting(_certificate.Certificate))));
    }

    public static TheoryData<string> Untrusted => [.. Documents.Keys.Where(name => name != "trusted")];

    [Fact]
    public async Task A_document_of_the_configured_issuer_with_https_endpoints_starts_an_intent()
    {
        using var response = await StartAsync("trusted");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.StartsWith($"{_base}/trusted/authorize?", JsonDocument.Parse(body).RootElement.GetProperty("authUrl").GetString());
    }

    [Theory]
    [MemberData(nameof(Untrusted))]
    public async Task A_document_naming_another_issuer_or_a_plain_http_endpoint_is_not_used(string name)
    {
        using var response = await StartAsync(name);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        Assert.Equal(StatusCode.Unavailable, (StatusCode)JsonDocument.Parse(body).RootElement.GetProperty("code").GetInt32());
        Assert.Contains(_logs.Lines, line => line.Category == typeof(IntentFlow).FullName && line.Message.Contains(name) && line.Message.Contains("not trusted"));
    }

    private async Task<HttpResponseMessage> StartAsync(string idpId) =>
        await _intents.ClientFor(_api).PostAsJsonAsync("/v2/idp_intents",
            new { idpId, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = IntentFixture.FailureUrl } });

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _discovery.DisposeAsync();
        await _intents.DisposeAsync();
    }
}
