using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// ZITADEL's own npm clients against the built server (SPEC §4.1), on every transport: gRPC over cleartext HTTP/2 at
/// <c>Grpc:Url</c> (<c>@zitadel/client/node</c>), gRPC-Web (<c>@zitadel/client/web</c>), and Connect in JSON and in binary
/// (<c>@connectrpc/connect-node</c>). The same login, errors and links as the REST gateway's tests.
/// </summary>
[Collection(ZitadelClientFixture.Collection)]
public sealed class ZitadelClientTests(ZitadelClientFixture fixture)
{
    public static TheoryData<string> Transports => new(ZitadelClients.Transports);

    private static void AssertFailure(RpcAnswer answer, string code, string? errorId = null)
    {
        Assert.True(answer.Error is not null, $"expected {code}, got {answer.Ok}");
        Assert.Equal(code, answer.Error.Code);
        Assert.False(string.IsNullOrWhiteSpace(answer.Error.Message));
        // Every error carries its ZITADEL error id as a zitadel.v1.ErrorDetail, which the client decodes.
        var detail = Assert.Single(answer.Error.Details);
        Assert.Matches("^[A-Z]+-[A-Za-z0-9]+$", detail.Id);
        Assert.EndsWith($"({detail.Id})", answer.Error.Message);
        if (errorId is not null)
        {
            Assert.Equal(errorId, detail.Id);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Start_answers_an_auth_url_at_the_provider(string transport)
    {
        var answer = (await fixture.CallAsync(transport, "startIdentityProviderIntent", ZitadelClientFixture.StartRequest(), fixture.Token())).Value;

        var authUrl = new Uri(answer.GetProperty("authUrl").GetString()!);
        Assert.StartsWith(fixture.Intents.Provider.Issuer + "connect/authorize", authUrl.ToString());
        var query = QueryHelpers.ParseQuery(authUrl.Query);
        Assert.Equal(IntentFixture.CallbackUrl, query["redirect_uri"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("org-test", answer.GetProperty("details").GetProperty("resourceOwner").GetString());
        Assert.Equal("1", answer.GetProperty("details").GetProperty("sequence").GetString());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_control_character_in_either_url_is_an_invalid_argument(string transport)
    {
        foreach (var character in new[] { '\r', '\n', '\0', '\t', '\x7f' })
        {
            foreach (var field in new[] { "successUrl", "failureUrl" })
            {
                var url = IntentFixture.AllowedOrigin + "/idp/ok" + character + "Set-Cookie: a=b";
                var urls = field == "successUrl"
                    ? new { successUrl = url, failureUrl = IntentFixture.FailureUrl }
                    : new { successUrl = IntentFixture.SuccessUrl, failureUrl = url };

                var answer = await fixture.CallAsync(transport, "startIdentityProviderIntent", new { idpId = IntentFixture.OidcProvider, urls }, fixture.Token());

                Assert.True(answer.Error?.Code == "invalid_argument", $"{field} with U+{(int)character:X4}: {answer.Error}");
                Assert.Contains($"urls.{field}", answer.Error!.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_full_login_retrieves_what_zitadel_s_add_human_user_accepts(string transport)
    {
        var user = TestIdentityProvider.Alice;
        var token = fixture.Token();
        var (id, intentToken) = await fixture.LoginAsync(transport, user, token);

        var answer = (await fixture.CallAsync(transport, "retrieveIdentityProviderIntent", new { idpIntentId = id, idpIntentToken = intentToken }, token)).Value;

        var information = answer.GetProperty("idpInformation");
        Assert.Equal(IntentFixture.OidcProvider, information.GetProperty("idpId").GetString());
        Assert.Equal(user.Subject, information.GetProperty("userId").GetString());
        Assert.Equal(user.UserName, information.GetProperty("userName").GetString());
        Assert.False(string.IsNullOrEmpty(information.GetProperty("oauth").GetProperty("accessToken").GetString()));
        Assert.Equal(user.Email, information.GetProperty("rawInformation").GetProperty("email").GetString());

        var add = answer.GetProperty("addHumanUser");
        Assert.Equal(user.UserName, add.GetProperty("username").GetString());
        Assert.Equal(user.GivenName, add.GetProperty("profile").GetProperty("givenName").GetString());
        Assert.Equal(user.FamilyName, add.GetProperty("profile").GetProperty("familyName").GetString());
        Assert.Equal(user.Email, add.GetProperty("email").GetProperty("email").GetString());
        Assert.True(add.GetProperty("email").GetProperty("isVerified").GetBoolean());
        // The provider says the phone is not verified: ZITADEL takes that as sendCode, never as isVerified: false.
        Assert.Equal(JsonValueKind.Object, add.GetProperty("phone").GetProperty("sendCode").ValueKind);
        Assert.False(add.GetProperty("phone").TryGetProperty("isVerified", out _));
        var link = Assert.Single(add.GetProperty("idpLinks").EnumerateArray());
        Assert.Equal(IntentFixture.OidcProvider, link.GetProperty("idpId").GetString());
        Assert.Equal(user.Subject, link.GetProperty("userId").GetString());
        Assert.Equal(user.UserName, link.GetProperty("userName").GetString());
        Assert.False(add.GetProperty("profile").TryGetProperty("gender", out _));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_wrong_token_and_an_unknown_id_are_permission_denied_alike(string transport)
    {
        var token = fixture.Token();
        var (id, intentToken) = await fixture.LoginAsync(transport, TestIdentityProvider.Bob, token);

        var wrong = await fixture.CallAsync(transport, "retrieveIdentityProviderIntent", new { idpIntentId = id, idpIntentToken = intentToken[..^1] + "x" }, token);
        var unknown = await fixture.CallAsync(transport, "retrieveIdentityProviderIntent", new { idpIntentId = "123456789", idpIntentToken = intentToken }, token);
        var otherApp = await fixture.CallAsync(transport, "retrieveIdentityProviderIntent", new { idpIntentId = id, idpIntentToken = intentToken },
            fixture.Token(clientApp: "another-app"));

        AssertFailure(wrong, "permission_denied", "CRYPTO-CRYPTO");
        AssertFailure(unknown, "permission_denied", "CRYPTO-CRYPTO");
        AssertFailure(otherApp, "permission_denied", "CRYPTO-CRYPTO");
        Assert.Equal(wrong.Error!.Message, unknown.Error!.Message);
        var right = await fixture.CallAsync(transport, "retrieveIdentityProviderIntent", new { idpIntentId = id, idpIntentToken = intentToken }, token);
        Assert.Equal(TestIdentityProvider.Bob.Subject, right.Value.GetProperty("idpInformation").GetProperty("userId").GetString());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task No_token_is_unauthenticated_and_a_token_without_the_scope_permission_denied(string transport)
    {
        var anonymous = await fixture.CallAsync(transport, "startIdentityProviderIntent", ZitadelClientFixture.StartRequest(), token: null);
        var forged = await fixture.CallAsync(transport, "listIDPLinks", new { userId = "user-1" }, fixture.Token()[..^4] + "AAAA");
        var noScope = await fixture.CallAsync(transport, "startIdentityProviderIntent", ZitadelClientFixture.StartRequest(), fixture.Token(scopes: "email"));

        AssertFailure(anonymous, "unauthenticated");
        AssertFailure(forged, "unauthenticated");
        AssertFailure(noScope, "permission_denied", "AUTH-Sc3pe");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_user_adds_lists_and_removes_its_own_links_and_no_one_else_s(string transport)
    {
        var user = $"zitadel-{transport}-{Guid.NewGuid():N}";
        var own = fixture.Token(userId: user);
        var link = new { idpId = IntentFixture.OAuthProvider, userId = $"ext-{user}", userName = "ext name" };

        var added = await fixture.CallAsync(transport, "addIDPLink", new { userId = user, idpLink = link }, own);
        var listed = await fixture.CallAsync(transport, "listIDPLinks", new { userId = user }, own);
        var someoneElse = await fixture.CallAsync(transport, "listIDPLinks", new { userId = user }, fixture.Token(userId: "intruder"));
        var again = await fixture.CallAsync(transport, "addIDPLink", new { userId = user, idpLink = link }, own);
        var removed = await fixture.CallAsync(transport, "removeIDPLink", new { userId = user, idpId = link.idpId, linkedUserId = link.userId }, own);
        var afterwards = await fixture.CallAsync(transport, "listIDPLinks", new { userId = user }, own);
        var removedAgain = await fixture.CallAsync(transport, "removeIDPLink", new { userId = user, idpId = link.idpId, linkedUserId = link.userId }, own);

        Assert.Equal("org-test", added.Value.GetProperty("details").GetProperty("resourceOwner").GetString());
        Assert.Equal("1", listed.Value.GetProperty("details").GetProperty("totalResult").GetString());
        var only = Assert.Single(ProtoJsonReading.Repeated(listed.Value, "result"));
        Assert.Equal((link.idpId, link.userId, link.userName),
            (only.GetProperty("idpId").GetString(), only.GetProperty("userId").GetString(), only.GetProperty("userName").GetString()));
        AssertFailure(someoneElse, "permission_denied");
        AssertFailure(again, "already_exists");
        Assert.NotNull(removed.Ok);
        Assert.Empty(ProtoJsonReading.Repeated(afterwards.Value, "result"));
        AssertFailure(removedAgain, "not_found");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_ldap_sign_in_answers_the_intent_at_once_and_retrieve_shows_the_directory_s_attributes(string transport)
    {
        var token = fixture.Token();
        var alice = TestDirectory.Alice;

        var started = await fixture.CallAsync(transport, "startIdentityProviderIntent",
            new { idpId = ZitadelClientFixture.LdapProvider, ldap = new { username = alice.Uid, password = alice.Password } }, token);
        var wrong = await fixture.CallAsync(transport, "startIdentityProviderIntent",
            new { idpId = ZitadelClientFixture.LdapProvider, ldap = new { username = alice.Uid, password = "not-her-password" } }, token);
        var intent = started.Value.GetProperty("idpIntent");
        var answer = (await fixture.CallAsync(transport, "retrieveIdentityProviderIntent",
            new { idpIntentId = intent.GetProperty("idpIntentId").GetString(), idpIntentToken = intent.GetProperty("idpIntentToken").GetString() }, token)).Value;

        var information = answer.GetProperty("idpInformation");
        Assert.Equal(alice.Uid, information.GetProperty("userId").GetString());
        var mails = information.GetProperty("ldap").GetProperty("attributes").EnumerateObject().Single(a => a.Name.Equals("mail", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(alice.Mails, mails.Value.EnumerateArray().Select(v => v.GetString()).ToArray());
        Assert.Equal(alice.Uid, answer.GetProperty("addHumanUser").GetProperty("username").GetString());
        AssertFailure(wrong, "invalid_argument", "LDAP-Lgn4fd");
    }

    [Fact]
    public async Task The_rate_limit_per_address_is_one_budget_across_every_transport()
    {
        var (server, mainUrl, grpcUrl) = await fixture.StartServerAsync(new Dictionary<string, string?>
        {
            ["RateLimiting:PermitsPerIp"] = "5",
            ["RateLimiting:WindowSeconds"] = "600",
        });
        await using var _ = server;
        var token = fixture.Token();
        using var rest = new HttpClient { BaseAddress = mainUrl };
        rest.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Task<RpcAnswer> Rpc(string transport) =>
            fixture.Clients.CallAsync(transport, transport == "grpc" ? grpcUrl : mainUrl, token, "listIDPLinks", new { userId = "user-1" });

        // Five permits: one call on each transport spends them all …
        using var first = await rest.PostAsJsonAsync("/v2/users/user-1/links/_search", new { });
        var allowed = new List<RpcAnswer>();
        foreach (var transport in ZitadelClients.Transports)
        {
            allowed.Add(await Rpc(transport));
        }
        // … and then every transport is refused.
        var refused = new List<RpcAnswer>();
        foreach (var transport in ZitadelClients.Transports)
        {
            refused.Add(await Rpc(transport));
        }
        using var last = await rest.PostAsJsonAsync("/v2/users/user-1/links/_search", new { });

        Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
        Assert.All(allowed, answer => Assert.NotNull(answer.Ok));
        Assert.All(refused, answer => AssertFailure(answer, "resource_exhausted"));
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, last.StatusCode);
    }

    [Fact]
    public async Task One_flow_spans_three_instances_and_three_transports()
    {
        var token = fixture.Token();
        // Started over gRPC on the server process …
        var started = (await fixture.CallAsync("grpc", "startIdentityProviderIntent", ZitadelClientFixture.StartRequest(), token)).Value;
        var callback = await fixture.Intents.SignInAtProviderAsync(new Uri(started.GetProperty("authUrl").GetString()!), TestIdentityProvider.Alice);
        // … the provider's redirect lands on a second instance …
        var landing = QueryHelpers.ParseQuery((await fixture.Intents.DeliverCallbackAsync(fixture.Intents.First, callback)).Query);
        var (id, intentToken) = (landing["id"].ToString(), landing["token"].ToString());

        // … and the intent is retrieved on a third, over the REST gateway, and back on the first over Connect.
        using var rest = await fixture.Intents.ClientFor(fixture.Intents.Second)
            .PostAsJsonAsync($"/v2/idp_intents/{id}", new { idpIntentToken = intentToken });
        var overRest = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()).RootElement;
        var overConnect = (await fixture.CallAsync("connect", "retrieveIdentityProviderIntent", new { idpIntentId = id, idpIntentToken = intentToken }, token)).Value;

        Assert.Equal(TestIdentityProvider.Alice.Subject, overRest.GetProperty("idpInformation").GetProperty("userId").GetString());
        Assert.True(JsonElement.DeepEquals(overRest.GetProperty("addHumanUser"), overConnect.GetProperty("addHumanUser")),
            $"{overRest.GetProperty("addHumanUser")}\n{overConnect.GetProperty("addHumanUser")}");
        Assert.Equal(overRest.GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString(),
            overConnect.GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString());
    }
}
