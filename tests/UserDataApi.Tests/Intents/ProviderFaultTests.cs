using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Intents;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// Issue 7: a provider that hangs or answers garbage during the callback fails the intent cleanly (a
/// redirect to the failure URL within its <c>TimeoutSeconds</c>), and the server keeps answering everything else.
/// </summary>
public sealed class ProviderFaultTests(ProviderFaultTests.Fixture fixture) : IClassFixture<ProviderFaultTests.Fixture>
{
    private const int TimeoutSeconds = 1;
    private const int SlowTimeoutSeconds = 5;
    private const string ValidProvider = "answers-well";
    private const string SlowHangingProvider = "token-hangs-5s";
    private const string PatientHangingProvider = "token-hangs-30s";
    // Long enough that the hung callbacks are surely still hanging after the other calls, even on a busy machine.
    private const string BusyHangingProvider = "token-hangs-12s";
    private const string IdTokenProvider = "id-token-checks";

    private static readonly ProviderAnswer ValidToken = ProviderAnswer.Json("""{"access_token":"at-1","token_type":"Bearer"}""");
    private static readonly ProviderAnswer ValidUserInfo = ProviderAnswer.Json("""{"id":"faulty-user-1","preferred_username":"faulty"}""");

    /// <summary>What the provider's endpoints answer, and what the failure redirect's error_description must say.</summary>
    private sealed record Fault(ProviderAnswer Token, ProviderAnswer UserInfo, string Described, bool Oidc = false);

    /// <summary>Every fault, each configured as a provider of its own (by this id) with <see cref="TimeoutSeconds"/>.</summary>
    private static readonly Dictionary<string, Fault> Faults = new()
    {
        ["token-hangs"] = new(ProviderAnswer.Hang, ValidUserInfo, $"token endpoint did not answer within {TimeoutSeconds} s"),
        ["token-stalls-mid-body"] = new(ProviderAnswer.StallingAfter("""{"access_token":"at-"""), ValidUserInfo, $"token endpoint did not answer within {TimeoutSeconds} s"),
        ["token-drops-the-connection"] = new(ProviderAnswer.Drop, ValidUserInfo, "token endpoint could not be used"),
        ["token-connection-refused"] = new(ProviderAnswer.ConnectionRefused, ValidUserInfo, "token endpoint could not be used"),
        ["token-html-page"] = new(ProviderAnswer.Text(200, "text/html", "<html>oops"), ValidUserInfo, "token endpoint could not be used"),
        ["token-html-error-page"] = new(ProviderAnswer.Text(502, "text/html", "<html><h1>502 Bad Gateway</h1></html>"), ValidUserInfo, "token endpoint answered 502"),
        ["token-truncated-json"] = new(ProviderAnswer.Json("""{"access_token":"at-1","token_ty"""), ValidUserInfo, "token endpoint could not be used"),
        ["token-json-array"] = new(ProviderAnswer.Json("""["at-1"]"""), ValidUserInfo, "token endpoint did not answer a JSON object"),
        ["token-nested-too-deep"] = new(ProviderAnswer.Json(new string('[', 100) + new string(']', 100)), ValidUserInfo, "token endpoint could not be used"),
        ["token-access-token-a-number"] = new(ProviderAnswer.Json("""{"access_token": 5}"""), ValidUserInfo, "access_token is not a string"),
        ["token-access-token-an-object"] = new(ProviderAnswer.Json("""{"access_token": {"value": "at-1"}}"""), ValidUserInfo, "access_token is not a string"),
        ["token-no-access-token"] = new(ProviderAnswer.Json("""{"token_type":"Bearer"}"""), ValidUserInfo, "holds no access_token"),
        ["token-access-token-twice"] = new(ProviderAnswer.Json("""{"access_token":"at-1","access_token":"at-2"}"""), ValidUserInfo, "token endpoint could not be used"),
        ["token-over-1-mib"] = new(ProviderAnswer.Json(Padded("""{"access_token":"at-1","padding":""", "}")), ValidUserInfo, "token endpoint could not be used"),
        ["userinfo-hangs"] = new(ValidToken, ProviderAnswer.Hang, $"user-info endpoint did not answer within {TimeoutSeconds} s"),
        ["userinfo-connection-refused"] = new(ValidToken, ProviderAnswer.ConnectionRefused, "user-info endpoint could not be used"),
        ["userinfo-html-page"] = new(ValidToken, ProviderAnswer.Text(200, "text/html", "<html>oops"), "user-info endpoint could not be used"),
        ["userinfo-truncated-json"] = new(ValidToken, ProviderAnswer.Json("""{"id":"faulty-user-1","na"""), "user-info endpoint could not be used"),
        ["userinfo-no-user-id"] = new(ValidToken, ProviderAnswer.Json("""{"name":"Nobody"}"""), "named no user id"),
        ["userinfo-user-id-an-object"] = new(ValidToken, ProviderAnswer.Json("""{"id":{"value":"faulty-user-1"}}"""), "named no user id"),
        ["userinfo-nul-in-a-claim"] = new(ValidToken, ProviderAnswer.Json("""{"id":"faulty-user-1","name":"a\u0000b"}"""), "cannot be stored"),
        ["userinfo-nul-in-a-claim-name"] = new(ValidToken, ProviderAnswer.Json("""{"id":"faulty-user-1","na\u0000me":"a"}"""), "cannot be stored"),
        ["userinfo-over-1-mib"] = new(ValidToken, ProviderAnswer.Json(Padded("""{"id":"faulty-user-1","name":""", "}")), "user-info endpoint could not be used"),
        ["userinfo-lone-surrogate"] = new(ValidToken, ProviderAnswer.Json("""{"id":"faulty-user-1","name":"\ud800"}"""), "could not be read"),
        ["id-token-not-a-jwt"] = new(ProviderAnswer.Json("""{"access_token":"at-1","id_token":"not.a.jwt"}"""), ValidUserInfo, "ID token is not valid", Oidc: true),
        ["id-token-a-number"] = new(ProviderAnswer.Json("""{"access_token":"at-1","id_token":5}"""), ValidUserInfo, "id_token is not a string", Oidc: true),
        ["id-token-missing"] = new(ValidToken, ValidUserInfo, "holds no id_token", Oidc: true),
    };

    /// <summary>Valid JSON over the 1 MiB a provider's answer may have: a 2 MiB string between start and end.</summary>
    private static string Padded(string start, string end) => $"{start}\"{new string('x', 2 * 1024 * 1024)}\"{end}";

    public static TheoryData<string> FaultNames => [.. Faults.Keys];

    /// <summary>One server instance on the intent tests' database with every provider above, and the misbehaving provider behind them.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public IntentFixture Intents { get; } = new();
        public MisbehavingProvider Provider { get; private set; } = null!;
        public ApiFactory Api { get; private set; } = null!;

        public const string ClientId = "userdataapi";

        /// <summary>The key the <see cref="IdTokenProvider"/> signs ID tokens with, published in its JWKS.</summary>
        public static readonly RsaSecurityKey IdTokenKey = new(RSA.Create(2048)) { KeyId = "id-token-key-1" };

        public string IdTokenIssuer { get; private set; } = "";

        /// <summary>The token endpoint of each provider, by provider id.</summary>
        public Dictionary<string, string> TokenEndpoints { get; } = [];

        public async Task InitializeAsync()
        {
            await Intents.InitializeAsync();
            Provider = await MisbehavingProvider.StartAsync();
            var settings = new Dictionary<string, string?>();
            foreach (var (idpId, fault) in Faults)
            {
                if (fault.Oidc)
                {
                    ConfigureOidc(settings, idpId, Provider.OidcIssuer(fault.Token));
                }
                else
                {
                    ConfigureOAuth(settings, idpId, fault.Token, fault.UserInfo, TimeoutSeconds);
                }
            }
            ConfigureOAuth(settings, ValidProvider, ValidToken, ValidUserInfo, TimeoutSeconds);
            ConfigureOAuth(settings, SlowHangingProvider, ProviderAnswer.Hang, ValidUserInfo, SlowTimeoutSeconds);
            ConfigureOAuth(settings, PatientHangingProvider, ProviderAnswer.Hang, ValidUserInfo, 30);
            ConfigureOAuth(settings, BusyHangingProvider, ProviderAnswer.Hang, ValidUserInfo, 12);
            ConfigureOidc(settings, "discovery-hangs", Provider.Endpoint(ProviderAnswer.Hang));
            var publicKey = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(IdTokenKey.Rsa.ExportParameters(false)) { KeyId = IdTokenKey.KeyId });
            IdTokenIssuer = Provider.OidcIssuer(ValidToken, keySet: ProviderAnswer.Json(JsonSerializer.Serialize(new
            {
                keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = publicKey.Kid, n = publicKey.N, e = publicKey.E } },
            })));
            ConfigureOidc(settings, IdTokenProvider, IdTokenIssuer);
            ConfigureOidc(settings, "key-set-hangs", Provider.OidcIssuer(ValidToken, keySet: ProviderAnswer.Hang));
            Api = await Intents.StartInstanceAsync(settings);
        }

        private void ConfigureOAuth(Dictionary<string, string?> settings, string idpId, ProviderAnswer token, ProviderAnswer userInfo, int timeoutSeconds)
        {
            var key = ConfigureClient(settings, idpId, timeoutSeconds);
            TokenEndpoints[idpId] = Provider.Endpoint(token);
            settings[$"{key}:Type"] = "oauth";
            settings[$"{key}:AuthorizationEndpoint"] = Provider.BaseUrl + "/authorize";
            settings[$"{key}:TokenEndpoint"] = TokenEndpoints[idpId];
            settings[$"{key}:UserInfoEndpoint"] = Provider.Endpoint(userInfo);
        }

        private static void ConfigureOidc(Dictionary<string, string?> settings, string idpId, string issuer)
        {
            var key = ConfigureClient(settings, idpId, TimeoutSeconds);
            settings[$"{key}:Issuer"] = issuer;
            settings[$"{key}:RequireHttpsMetadata"] = "false";
        }

        private static string ConfigureClient(Dictionary<string, string?> settings, string idpId, int timeoutSeconds)
        {
            var key = $"Intents:Providers:{idpId}";
            settings[$"{key}:ClientId"] = ClientId;
            settings[$"{key}:ClientSecret"] = "provider-secret";
            settings[$"{key}:TimeoutSeconds"] = timeoutSeconds.ToString();
            return key;
        }

        public async Task DisposeAsync()
        {
            await Api.DisposeAsync();
            await Provider.DisposeAsync();
            await Intents.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(FaultNames))]
    public async Task A_provider_fault_during_the_callback_fails_the_intent_with_a_redirect_to_the_failure_url(string idpId)
    {
        var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, idpId);
        var intentId = await fixture.Intents.IntentIdOfStateAsync(state);

        var clock = Stopwatch.StartNew();
        using var response = await CallbackAsync(state);
        clock.Stop();

        var landing = await AssertRedirectAsync(response, IntentFixture.FailureUrl);
        Assert.Equal(intentId, landing["id"]);
        Assert.Equal("server_error", landing["error"]);
        Assert.Contains(Faults[idpId].Described, landing["error_description"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(TimeoutSeconds + 4), $"the callback took {clock.Elapsed}");
        await AssertFailedAsync(intentId);
    }

    /// <summary>SPEC §4: the ID token's signature (the provider's JWKS), issuer, audience, nonce and lifetime are all checked.</summary>
    [Theory]
    [InlineData("valid", null)]
    [InlineData("wrong-issuer", "ID token is not valid")]
    [InlineData("wrong-audience", "ID token is not valid")]
    [InlineData("expired", "ID token is not valid")]
    [InlineData("signed-by-an-unknown-key", "ID token is not valid")]
    [InlineData("wrong-nonce", "nonce does not match")]
    public async Task The_id_token_must_be_signed_by_the_provider_for_this_client_and_intent_and_be_current(string variant, string? described)
    {
        var (state, authUrl) = await fixture.Intents.StartIntentAsync(fixture.Api, IdTokenProvider);
        var nonce = QueryHelpers.ParseQuery(authUrl.Query)["nonce"].ToString();
        var now = DateTime.UtcNow;
        var idToken = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = variant == "wrong-issuer" ? fixture.IdTokenIssuer + "/other" : fixture.IdTokenIssuer,
            Audience = variant == "wrong-audience" ? "another-client" : Fixture.ClientId,
            Claims = new Dictionary<string, object> { ["sub"] = "id-token-user", ["nonce"] = variant == "wrong-nonce" ? nonce + "x" : nonce },
            IssuedAt = variant == "expired" ? now.AddHours(-2) : now,
            NotBefore = variant == "expired" ? now.AddHours(-2) : now.AddSeconds(-1),
            Expires = variant == "expired" ? now.AddHours(-1) : now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(
                variant == "signed-by-an-unknown-key" ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = Fixture.IdTokenKey.KeyId } : Fixture.IdTokenKey,
                SecurityAlgorithms.RsaSha256),
        });
        fixture.Provider.ChangeAnswer(fixture.Provider.TokenEndpointOf(fixture.IdTokenIssuer),
            ProviderAnswer.Json(JsonSerializer.Serialize(new { access_token = "at-1", token_type = "Bearer", id_token = idToken })));

        using var response = await CallbackAsync(state);

        if (described is null)
        {
            var landing = await AssertRedirectAsync(response, IntentFixture.SuccessUrl);
            using var retrieve = await fixture.Intents.RetrieveAsync(fixture.Api, landing["id"], landing["token"]);
            var answer = JsonDocument.Parse(await retrieve.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("id-token-user", answer.GetProperty("idpInformation").GetProperty("userId").GetString());
        }
        else
        {
            var landing = await AssertRedirectAsync(response, IntentFixture.FailureUrl);
            Assert.Contains(described, landing["error_description"]);
            await AssertFailedAsync(await fixture.Intents.IntentIdOfStateAsync(state));
        }
    }

    [Fact]
    public async Task The_misbehaving_provider_s_valid_answers_complete_an_intent()
    {
        var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, ValidProvider);

        using var response = await CallbackAsync(state);

        var landing = await AssertRedirectAsync(response, IntentFixture.SuccessUrl);
        using var retrieve = await fixture.Intents.RetrieveAsync(fixture.Api, landing["id"], landing["token"]);
        var answer = JsonDocument.Parse(await retrieve.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, retrieve.StatusCode);
        Assert.Equal("faulty-user-1", answer.GetProperty("idpInformation").GetProperty("userId").GetString());
    }

    [Theory]
    [InlineData("token-hangs", TimeoutSeconds)]
    [InlineData(SlowHangingProvider, SlowTimeoutSeconds)]
    public async Task A_hanging_provider_is_given_up_after_its_own_timeout_and_its_connection_closed(string idpId, int timeoutSeconds)
    {
        var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, idpId);
        var tokenEndpoint = fixture.TokenEndpoints[idpId];
        var abandonedBefore = fixture.Provider.AbandonedAt(tokenEndpoint);

        var clock = Stopwatch.StartNew();
        using var response = await CallbackAsync(state);
        clock.Stop();

        await AssertRedirectAsync(response, IntentFixture.FailureUrl);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(timeoutSeconds - 0.1), TimeSpan.FromSeconds(timeoutSeconds + 3));
        await WaitUntilAsync(() => fixture.Provider.AbandonedAt(tokenEndpoint) > abandonedBefore, TimeSpan.FromSeconds(3),
            "the provider's hanging request was never closed");
    }

    [Theory]
    [InlineData("discovery-hangs")]
    [InlineData("key-set-hangs")]
    public async Task Start_answers_503_within_the_timeout_when_the_discovery_document_or_key_set_hangs(string idpId)
    {
        var clock = Stopwatch.StartNew();
        using var response = await fixture.Intents.ClientFor(fixture.Api).PostAsync("/v2/idp_intents", JsonContent(
            new { idpId, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = IntentFixture.FailureUrl } }));
        clock.Stop();

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(StatusCode.Unavailable, (StatusCode)JsonDocument.Parse(body).RootElement.GetProperty("code").GetInt32());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(TimeoutSeconds + 4), $"start took {clock.Elapsed}");
    }

    [Fact]
    public async Task While_callbacks_hang_on_a_provider_every_other_request_is_answered_promptly()
    {
        const int hanging = 8;
        using var anonymous = fixture.Api.CreateClient();
        var userData = new UserDataClient(fixture.Api.CreateClient());
        var others = new (string Name, Func<Task> Call)[]
        {
            ("GET /health/live", async () => Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode)),
            ("user-data get", async () => Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await userData.PostAsync(
                "get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, fixture.Intents.Authority.CreateToken())).Result())),
            ("start of another intent", () => fixture.Intents.StartIntentAsync(fixture.Api, ValidProvider)),
            ("callback of another intent", async () =>
            {
                var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, ValidProvider);
                using var response = await CallbackAsync(state);
                await AssertRedirectAsync(response, IntentFixture.SuccessUrl);
            }),
        };
        // Once before the hang, so that first-call costs (keys, connections) are not timed.
        foreach (var (_, call) in others)
        {
            await call();
        }
        var tokenEndpoint = fixture.TokenEndpoints[BusyHangingProvider];
        var arrivedBefore = fixture.Provider.ArrivedAt(tokenEndpoint);
        var states = new List<string>();
        for (var i = 0; i < hanging; i++)
        {
            var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, BusyHangingProvider);
            states.Add(state);
        }

        var callbacks = states.Select(CallbackAsync).ToList();
        await WaitUntilAsync(() => fixture.Provider.ArrivedAt(tokenEndpoint) >= arrivedBefore + hanging, TimeSpan.FromSeconds(SlowTimeoutSeconds),
            "the callbacks never reached the provider");
        foreach (var (name, call) in others)
        {
            var clock = Stopwatch.StartNew();
            await call();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{name} took {clock.Elapsed} while callbacks hung");
        }

        Assert.DoesNotContain(callbacks, c => c.IsCompleted);
        foreach (var callback in callbacks)
        {
            using var response = await callback;
            await AssertRedirectAsync(response, IntentFixture.FailureUrl);
        }
    }

    [Fact]
    public async Task A_browser_that_leaves_during_a_hang_ends_the_provider_call_and_leaves_the_intent_open()
    {
        var (state, _) = await fixture.Intents.StartIntentAsync(fixture.Api, PatientHangingProvider);
        var intentId = await fixture.Intents.IntentIdOfStateAsync(state);
        var tokenEndpoint = fixture.TokenEndpoints[PatientHangingProvider];
        var abandonedBefore = fixture.Provider.AbandonedAt(tokenEndpoint);
        using var browser = fixture.Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var leaving = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            browser.GetAsync($"/idps/callback?code=code-1&state={Uri.EscapeDataString(state)}", leaving.Token));

        await WaitUntilAsync(() => fixture.Provider.AbandonedAt(tokenEndpoint) > abandonedBefore, TimeSpan.FromSeconds(3),
            "the server kept waiting for the provider after the browser left");
        Assert.Equal(IntentState.Started, await fixture.Intents.IntentStateAsync(intentId));
    }

    /// <summary>The browser's return from the provider: a code and the intent's state, redirects not followed.</summary>
    private async Task<HttpResponseMessage> CallbackAsync(string state)
    {
        using var browser = fixture.Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        return await browser.GetAsync($"/idps/callback?code=code-1&state={Uri.EscapeDataString(state)}");
    }

    private static async Task<Dictionary<string, string>> AssertRedirectAsync(HttpResponseMessage response, string to)
    {
        var location = response.Headers.Location?.ToString() ?? "";
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{(int)response.StatusCode} {location} {await response.Content.ReadAsStringAsync()}");
        Assert.StartsWith(to.Contains('?') ? to + "&" : to + "?", location);
        return QueryHelpers.ParseQuery(new Uri(location).Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>
    /// The intent is stored as failed, and retrieve reveals nothing of it: a failed intent never handed out a token,
    /// so any token is a wrong one (SPEC §4.2: permission denied, as for an id that does not exist).
    /// </summary>
    private async Task AssertFailedAsync(string intentId)
    {
        Assert.Equal(IntentState.Failed, await fixture.Intents.IntentStateAsync(intentId));
        using var retrieve = await fixture.Intents.RetrieveAsync(fixture.Api, intentId, "anything");
        var body = await retrieve.Content.ReadAsStringAsync();
        Assert.True(retrieve.StatusCode == HttpStatusCode.Forbidden, $"{(int)retrieve.StatusCode}: {body}");
        var error = JsonDocument.Parse(body).RootElement;
        Assert.Equal(StatusCode.PermissionDenied, (StatusCode)error.GetProperty("code").GetInt32());
        GatewayErrorShape.AssertIdOf(error);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, failure);
            await Task.Delay(50);
        }
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
