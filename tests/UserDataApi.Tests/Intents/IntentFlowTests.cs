using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using StatusCode = UserDataApi.Intents.StatusCode;
using IntentSecrets = UserDataApi.Intents.IntentSecrets;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

public sealed class IntentFlowTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private static Dictionary<string, string> QueryOf(Uri uri) =>
        QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    /// <summary>A whole login: start, provider login, callback; returns the success redirect's query.</summary>
    private async Task<Dictionary<string, string>> LoginAsync(ProviderUser user, string idpId = IntentFixture.OidcProvider)
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First, idpId);
        var callback = await fixture.SignInAtProviderAsync(authUrl, user);
        var landing = await fixture.DeliverCallbackAsync(fixture.First, callback);
        Assert.StartsWith(IntentFixture.AllowedOrigin + "/idp/success?flow=42&", landing.ToString());
        return QueryOf(landing);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Start_returns_an_authorization_code_request_with_pkce_state_and_nonce()
    {
        using var response = await fixture.ClientFor(fixture.First).PostAsync("/v2/idp_intents", JsonContent(
            new { idpId = IntentFixture.OidcProvider, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = IntentFixture.FailureUrl } }));
        var answer = await ReadJsonAsync(response, HttpStatusCode.OK);

        var authUrl = new Uri(answer.GetProperty("authUrl").GetString()!);
        var query = QueryOf(authUrl);
        Assert.StartsWith(fixture.Provider.Issuer + "connect/authorize", authUrl.ToString());
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(TestIdentityProvider.ClientId, query["client_id"]);
        Assert.Equal(IntentFixture.CallbackUrl, query["redirect_uri"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"].Length);
        Assert.True(query["state"].Length >= 43, "state carries at least 256 bits");
        Assert.True(query["nonce"].Length >= 43, "nonce carries at least 256 bits");
        Assert.Equal("openid profile email phone", query["scope"]);
        var details = answer.GetProperty("details");
        Assert.Equal("1", details.GetProperty("sequence").GetString());
        Assert.Equal("org-test", details.GetProperty("resourceOwner").GetString());
        Assert.True(details.GetProperty("changeDate").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task A_whole_oidc_login_retrieves_every_claim_the_provider_holds()
    {
        var user = TestIdentityProvider.Alice;
        var landing = await LoginAsync(user);
        Assert.False(landing.ContainsKey("user"));
        Assert.True(landing["token"].Length >= 43, "the intent token carries at least 256 bits");

        using var response = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]);
        var answer = await ReadJsonAsync(response, HttpStatusCode.OK);

        var details = answer.GetProperty("details");
        // Started (1), succeeded (2); a retrieve changes nothing.
        Assert.Equal("2", details.GetProperty("sequence").GetString());
        Assert.Equal("org-test", details.GetProperty("resourceOwner").GetString());
        Assert.True(details.GetProperty("creationDate").GetDateTimeOffset() <= details.GetProperty("changeDate").GetDateTimeOffset());

        var information = answer.GetProperty("idpInformation");
        Assert.Equal(IntentFixture.OidcProvider, information.GetProperty("idpId").GetString());
        Assert.Equal(user.Subject, information.GetProperty("userId").GetString());
        Assert.Equal(user.UserName, information.GetProperty("userName").GetString());
        var raw = information.GetProperty("rawInformation");
        foreach (var (type, value, valueType) in TestIdentityProvider.ClaimsOf(user))
        {
            if (valueType == System.Security.Claims.ClaimValueTypes.Boolean)
            {
                Assert.Equal(bool.Parse(value), raw.GetProperty(type).GetBoolean());
            }
            else
            {
                Assert.Equal(value, raw.GetProperty(type).GetString());
            }
        }
        var oauth = information.GetProperty("oauth");
        Assert.False(string.IsNullOrEmpty(oauth.GetProperty("accessToken").GetString()));
        var idToken = new JsonWebToken(oauth.GetProperty("idToken").GetString());
        Assert.Equal(user.Subject, idToken.Subject);
        Assert.Equal(TestIdentityProvider.ClientId, idToken.Audiences.Single());

        Assert.False(answer.TryGetProperty("userId", out _));
        Assert.False(answer.TryGetProperty("updateHumanUser", out _));
        var add = answer.GetProperty("addHumanUser");
        Assert.Equal(user.UserName, add.GetProperty("username").GetString());
        AssertProfile(add.GetProperty("profile"), user);
        Assert.Equal(user.Email, add.GetProperty("email").GetProperty("email").GetString());
        Assert.True(add.GetProperty("email").GetProperty("isVerified").GetBoolean());
        Assert.Equal(user.Phone, add.GetProperty("phone").GetProperty("phone").GetString());
        // ZITADEL's AddHumanUser takes isVerified: true or sendCode, never isVerified: false (SPEC §4.3).
        Assert.False(add.GetProperty("phone").TryGetProperty("isVerified", out _));
        Assert.Equal(JsonValueKind.Object, add.GetProperty("phone").GetProperty("sendCode").ValueKind);
        var link = Assert.Single(add.GetProperty("idpLinks").EnumerateArray());
        Assert.Equal(IntentFixture.OidcProvider, link.GetProperty("idpId").GetString());
        Assert.Equal(user.Subject, link.GetProperty("userId").GetString());
        Assert.Equal(user.UserName, link.GetProperty("userName").GetString());

        var create = answer.GetProperty("createUser");
        Assert.Equal("org-test", create.GetProperty("organizationId").GetString());
        Assert.Equal(user.UserName, create.GetProperty("username").GetString());
        AssertProfile(create.GetProperty("human").GetProperty("profile"), user);
        Assert.Equal(user.Email, create.GetProperty("human").GetProperty("email").GetProperty("email").GetString());
        Assert.Equal(user.Subject, create.GetProperty("human").GetProperty("idpLinks")[0].GetProperty("userId").GetString());
    }

    private static void AssertProfile(JsonElement profile, ProviderUser user)
    {
        Assert.Equal(user.GivenName, profile.GetProperty("givenName").GetString());
        Assert.Equal(user.FamilyName, profile.GetProperty("familyName").GetString());
        Assert.Equal(user.NickName, profile.GetProperty("nickName").GetString());
        Assert.Equal(user.Name, profile.GetProperty("displayName").GetString());
        Assert.Equal(user.Locale ?? "und", profile.GetProperty("preferredLanguage").GetString());
    }

    [Fact]
    public async Task A_user_without_locale_or_phone_gets_und_and_no_phone()
    {
        var landing = await LoginAsync(TestIdentityProvider.Bob);

        var answer = await ReadJsonAsync(await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]), HttpStatusCode.OK);

        var add = answer.GetProperty("addHumanUser");
        Assert.Equal("und", add.GetProperty("profile").GetProperty("preferredLanguage").GetString());
        Assert.False(add.TryGetProperty("phone", out _));
        Assert.False(add.GetProperty("email").TryGetProperty("isVerified", out _));
        Assert.Equal(JsonValueKind.Object, add.GetProperty("email").GetProperty("sendCode").ValueKind);
    }

    [Fact]
    public async Task An_oauth_provider_login_reads_the_user_id_from_its_id_attribute_and_answers_its_user_info_under_RawInfo()
    {
        var landing = await LoginAsync(TestIdentityProvider.Alice, IntentFixture.OAuthProvider);

        var answer = await ReadJsonAsync(await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]), HttpStatusCode.OK);

        Assert.Equal(TestIdentityProvider.Alice.Subject, answer.GetProperty("idpInformation").GetProperty("userId").GetString());
        Assert.Equal(IntentFixture.OAuthProvider, answer.GetProperty("idpInformation").GetProperty("idpId").GetString());
        var raw = answer.GetProperty("idpInformation").GetProperty("rawInformation");
        Assert.Equal(TestIdentityProvider.Alice.Email, raw.GetProperty("RawInfo").GetProperty("email").GetString());
        Assert.False(raw.TryGetProperty("email", out _));
        Assert.Equal(TestIdentityProvider.Alice.Email, answer.GetProperty("addHumanUser").GetProperty("email").GetProperty("email").GetString());
    }

    [Fact]
    public async Task Two_instances_share_one_flow_start_on_one_callback_on_the_other()
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);

        var landing = QueryOf(await fixture.DeliverCallbackAsync(fixture.Second, callback));
        var answer = await ReadJsonAsync(await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]), HttpStatusCode.OK);

        Assert.Equal(TestIdentityProvider.Alice.Subject, answer.GetProperty("idpInformation").GetProperty("userId").GetString());
    }

    [Fact]
    public async Task The_callback_accepts_a_form_post()
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        using var client = fixture.First.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.PostAsync("/idps/callback", new FormUrlEncodedContent(QueryOf(callback)));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var landing = QueryOf(response.Headers.Location!);
        Assert.Equal(HttpStatusCode.OK, (await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"])).StatusCode);
    }

    [Fact]
    public async Task A_provider_refusal_redirects_to_the_failure_url_with_the_error()
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Refuser);

        var landing = await fixture.DeliverCallbackAsync(fixture.First, callback);

        Assert.StartsWith(IntentFixture.FailureUrl + "?", landing.ToString());
        var query = QueryOf(landing);
        Assert.Equal("access_denied", query["error"]);
        Assert.Equal("The user refused the request.", query["error_description"]);
        Assert.Equal(IntentState.Failed, await fixture.IntentStateAsync(query["id"]));
        // A failed intent never handed out a token: any token is wrong, and answers as for an unknown id.
        using var retrieve = await fixture.RetrieveAsync(fixture.First, query["id"], "anything");
        Assert.Equal(StatusCode.PermissionDenied, (StatusCode)(await ReadJsonAsync(retrieve, HttpStatusCode.Forbidden)).GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_forged_error_with_line_breaks_and_megabytes_of_description_is_cleaned_and_bounded_in_logs_store_and_redirect()
    {
        var logs = new LogCapture();
        await using var instance = await fixture.StartInstanceAsync(logs: logs);
        var (state, _) = await fixture.StartIntentAsync(instance);
        var error = "access_denied\r\nfail: Intent 42 succeeded for admin\u2028\u202e" + new string('e', 500);
        var description = "refused\n\tby\u007fuser " + new string('d', 200_000);
        using var browser = instance.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await browser.PostAsync("/idps/callback", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["state"] = state, ["error"] = error, ["error_description"] = description,
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = QueryOf(response.Headers.Location!);
        Assert.StartsWith("access_denied  fail: Intent 42", query["error"]);
        Assert.Equal(128, query["error"].Length);
        Assert.StartsWith("refused  by user ddd", query["error_description"]);
        Assert.Equal(1024, query["error_description"].Length);
        // (The server's own lines: EF Core writes its SQL over several lines, of its own text.)
        Assert.DoesNotContain(logs.Lines, line => line.Category.StartsWith("UserDataApi.") && line.Message.Any(c => char.IsControl(c) || c is '\u2028' or '\u202e'));
        var failed = Assert.Single(logs.Lines, line => line.Message.Contains($"Intent {query["id"]} failed"));
        Assert.True(failed.Message.Length < 1300, $"{failed.Message.Length} characters logged");
        var reason = await TestSql.ScalarAsync<string>(fixture.ConnectionString, "SELECT failure_reason FROM idp_intents WHERE id = $1", query["id"]);
        Assert.True(reason.Length <= 128 + 2 + 1024, $"{reason.Length} characters stored");
        Assert.DoesNotContain(reason, char.IsControl);
    }

    [Fact]
    public async Task A_tampered_state_is_refused_and_the_intent_stays_open()
    {
        var (state, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        var tampered = callback.PathAndQuery.Replace(Uri.EscapeDataString(state), Uri.EscapeDataString(state[..^1] + (state[^1] == 'A' ? 'B' : 'A')));

        using var client = fixture.First.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var response = await client.GetAsync(tampered);

        var error = await ReadJsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(StatusCode.InvalidArgument, (StatusCode)error.GetProperty("code").GetInt32());
        var landing = await fixture.DeliverCallbackAsync(fixture.First, callback);
        Assert.StartsWith(IntentFixture.AllowedOrigin + "/idp/success", landing.ToString());
    }

    [Fact]
    public async Task A_replayed_callback_does_not_create_a_second_success()
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        var first = QueryOf(await fixture.DeliverCallbackAsync(fixture.First, callback));

        var replay = await fixture.DeliverCallbackAsync(fixture.Second, callback);

        Assert.StartsWith(IntentFixture.FailureUrl, replay.ToString());
        Assert.False(QueryOf(replay).ContainsKey("token"));
        using var retrieve = await fixture.RetrieveAsync(fixture.First, first["id"], first["token"]);
        Assert.Equal(HttpStatusCode.OK, retrieve.StatusCode);
    }

    [Fact]
    public async Task Retrieve_with_a_wrong_token_or_an_unknown_id_answers_403_alike()
    {
        var landing = await LoginAsync(TestIdentityProvider.Alice);

        using var wrong = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"][..^1] + "x");
        using var missing = await fixture.RetrieveAsync(fixture.First, landing["id"], null);
        using var unknown = await fixture.RetrieveAsync(fixture.First, "123456789", landing["token"]);

        var refused = await ReadJsonAsync(wrong, HttpStatusCode.Forbidden);
        Assert.Equal(StatusCode.PermissionDenied, (StatusCode)refused.GetProperty("code").GetInt32());
        Assert.Equal("CRYPTO-CRYPTO", GatewayErrorShape.AssertIdOf(refused));
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        // SPEC §4.2: nothing tells a caller whether the id exists.
        Assert.Equal(JsonSerializer.Serialize(refused), await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        using var stillThere = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Fact]
    public async Task Only_the_client_app_that_started_an_intent_can_retrieve_it_even_with_its_token()
    {
        var landing = await LoginAsync(TestIdentityProvider.Alice);

        using var otherApp = await fixture.ClientFor(fixture.First, clientApp: "another-app")
            .PostAsync($"/v2/idp_intents/{landing["id"]}", JsonContent(new { idpIntentToken = landing["token"] }));
        using var sameUserOtherApp = await fixture.ClientFor(fixture.Second, userId: "user-1", clientApp: "app-1-evil")
            .PostAsync($"/v2/idp_intents/{landing["id"]}", JsonContent(new { idpIntentToken = landing["token"] }));
        using var wrongToken = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"][..^1] + "x");

        var refused = await ReadJsonAsync(otherApp, HttpStatusCode.Forbidden);
        Assert.Equal(StatusCode.PermissionDenied, (StatusCode)refused.GetProperty("code").GetInt32());
        Assert.False(refused.TryGetProperty("idpInformation", out _));
        // Exactly as a wrong token answers: nothing tells the other app that its token was right.
        Assert.Equal(await wrongToken.Content.ReadAsStringAsync(), JsonSerializer.Serialize(refused));
        Assert.Equal(HttpStatusCode.Forbidden, sameUserOtherApp.StatusCode);
        using var starter = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]);
        Assert.Equal(HttpStatusCode.OK, starter.StatusCode);
    }

    [Fact]
    public async Task A_succeeded_intent_can_be_retrieved_again_on_any_instance_and_answers_the_same()
    {
        var landing = await LoginAsync(TestIdentityProvider.Alice);

        using var first = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]);
        using var second = await fixture.RetrieveAsync(fixture.Second, landing["id"], landing["token"]);

        var answer = await ReadJsonAsync(first, HttpStatusCode.OK);
        Assert.Equal(JsonSerializer.Serialize(answer), JsonSerializer.Serialize(await ReadJsonAsync(second, HttpStatusCode.OK)));
        Assert.Equal(IntentState.Succeeded, await fixture.IntentStateAsync(landing["id"]));
    }

    [Theory]
    [InlineData(IntentState.Started, "the intent has not succeeded yet")]
    [InlineData(IntentState.Failed, "the intent has failed")]
    [InlineData(IntentState.Consumed, "the intent was consumed by its first retrieve under an earlier version of this server")]
    public async Task An_intent_that_has_not_succeeded_answers_400_to_its_own_token(IntentState state, string message)
    {
        // Pending and failed intents hand out no token, and no version writes Consumed any more: the state is set
        // here, with a token the test knows, to reach the check that comes after the token's.
        var (started, _) = await fixture.StartIntentAsync(fixture.First);
        var id = await fixture.IntentIdOfStateAsync(started);
        await TestSql.ExecuteAsync(fixture.ConnectionString, "UPDATE idp_intents SET state = $2, token_hash = $3 WHERE id = $1",
            id, (short)state, IntentSecrets.Hash("known-token"));

        using var response = await fixture.RetrieveAsync(fixture.First, id, "known-token");

        var error = await ReadJsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(StatusCode.FailedPrecondition, (StatusCode)error.GetProperty("code").GetInt32());
        Assert.StartsWith(message + " (", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_expired_intent_answers_400()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var instance = await fixture.StartInstanceAsync(
            new Dictionary<string, string?> { ["Intents:SweepSeconds"] = "86400" },
            services: services => services.AddSingleton<TimeProvider>(clock));
        var (_, authUrl) = await fixture.StartIntentAsync(instance);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        var landing = QueryOf(await fixture.DeliverCallbackAsync(instance, callback));

        clock.Advance(TimeSpan.FromSeconds(3601));
        using var client = instance.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.Authority.CreateToken(
            scopes: "idp-intents", notBefore: clock.GetUtcNow().UtcDateTime, expires: clock.GetUtcNow().UtcDateTime.AddMinutes(10)));
        using var response = await client.PostAsync($"/v2/idp_intents/{landing["id"]}", JsonContent(new { idpIntentToken = landing["token"] }));

        var error = await ReadJsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(StatusCode.FailedPrecondition, (StatusCode)error.GetProperty("code").GetInt32());
        Assert.Contains("expired", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_linked_account_retrieves_the_user_id_and_update_human_user()
    {
        var user = TestIdentityProvider.Bob;
        var localUser = "local-" + Guid.NewGuid().ToString("N");
        using var linked = await fixture.LoginUiClientFor(fixture.First).PostAsync($"/v2/users/{localUser}/links",
            JsonContent(new { idpLink = new { idpId = IntentFixture.OidcProvider, userId = user.Subject, userName = user.UserName } }));
        Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
        try
        {
            var landing = await LoginAsync(user);
            Assert.Equal(localUser, landing["user"]);

            var answer = await ReadJsonAsync(await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]), HttpStatusCode.OK);

            Assert.Equal(localUser, answer.GetProperty("userId").GetString());
            Assert.False(answer.TryGetProperty("addHumanUser", out _));
            var update = answer.GetProperty("updateHumanUser");
            Assert.Equal(localUser, update.GetProperty("userId").GetString());
            Assert.Equal(user.UserName, update.GetProperty("username").GetString());
            AssertProfile(update.GetProperty("profile"), user);
            Assert.Equal(user.Email, update.GetProperty("email").GetProperty("email").GetString());
            Assert.Equal(localUser, answer.GetProperty("createUser").GetProperty("userId").GetString());
        }
        finally
        {
            using var _ = await fixture.LoginUiClientFor(fixture.First).DeleteAsync($"/v2/users/{localUser}/links/{IntentFixture.OidcProvider}/{user.Subject}");
        }
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    public static TheoryData<string> AcceptedUrlForms => new(
        IntentFixture.AllowedOrigin + "/idp/ok",
        IntentFixture.AllowedOrigin + "/idp/ok?a=1&b=two words&c=",
        IntentFixture.AllowedOrigin + "/idp/ok#after-the-login",
        IntentFixture.AllowedOrigin + "/ünïcödé/ok?q=ß&emoji=😀",
        IntentFixture.AllowedOrigin + "/a%2Fb/ok?x=%41%zz",
        IntentFixture.AllowedOrigin + ":443/idp/ok?",
        "HTTPS://LOGIN.EXAMPLE/Idp/Ok");

    [Theory]
    [MemberData(nameof(AcceptedUrlForms))]
    public async Task Every_url_form_start_accepts_is_redirected_to_by_the_callback_on_success_and_on_failure(string url)
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First, successUrl: url, failureUrl: url);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);

        var success = await fixture.DeliverCallbackAsync(fixture.First, callback);
        var replayed = await fixture.DeliverCallbackAsync(fixture.First, callback);

        foreach (var (landing, parameter) in new[] { (success, "id"), (replayed, "error") })
        {
            Assert.True(landing.IsAbsoluteUri, landing.ToString());
            Assert.Equal("login.example", landing.Host);
            Assert.All(landing.OriginalString, c => Assert.InRange(c, '!', '~'));
            Assert.True(QueryOf(landing).ContainsKey(parameter), landing.ToString());
        }
    }
}
