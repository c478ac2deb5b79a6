using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using StatusCode = UserDataApi.Intents.StatusCode;

namespace UserDataApi.Tests.Intents;

/// <summary>SPEC §4.4 on the REST gateway, against a real OpenLDAP directory: sign-in, what retrieve answers, every refusal alike, TLS, failover, limits, logs.</summary>
public sealed class LdapIntentTests(LdapFixture fixture) : IClassFixture<LdapFixture>
{
    private HttpClient Client => fixture.Intents.ClientFor(fixture.Api);

    private Task<HttpResponseMessage> StartAsync(string username, string password, string idpId = LdapFixture.Plain, ApiFactory? instance = null) =>
        fixture.Intents.ClientFor(instance ?? fixture.Api).PostAsJsonAsync("/v2/idp_intents", new { idpId, ldap = new { username, password } });

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Signs in and retrieves: the start's idpIntent and the retrieve's answer.</summary>
    private async Task<(JsonElement Intent, JsonElement Answer)> SignInAndRetrieveAsync(string username, string password, string idpId = LdapFixture.Plain)
    {
        var started = await JsonOf(await StartAsync(username, password, idpId), HttpStatusCode.OK);
        var intent = started.GetProperty("idpIntent");
        var answer = await JsonOf(await fixture.Intents.RetrieveAsync(fixture.Api, intent.GetProperty("idpIntentId").GetString()!, intent.GetProperty("idpIntentToken").GetString()),
            HttpStatusCode.OK);
        return (intent, answer);
    }

    private static string[] Values(JsonElement attributes, string name) =>
        attributes.EnumerateObject().Single(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value.EnumerateArray().Select(v => v.GetString()!).ToArray();

    [Fact]
    public async Task A_sign_in_answers_the_intent_at_once_and_retrieve_shows_every_attribute_and_the_mapped_user()
    {
        var alice = TestDirectory.Alice;
        var (intent, answer) = await SignInAndRetrieveAsync(alice.Uid, alice.Password);

        Assert.True(intent.GetProperty("idpIntentToken").GetString()!.Length >= 43);
        Assert.False(intent.TryGetProperty("userId", out _));
        var information = answer.GetProperty("idpInformation");
        Assert.Equal(LdapFixture.Plain, information.GetProperty("idpId").GetString());
        Assert.Equal(alice.Uid, information.GetProperty("userId").GetString());
        Assert.Equal(alice.Uid, information.GetProperty("userName").GetString());
        Assert.False(information.TryGetProperty("oauth", out _));
        var attributes = information.GetProperty("ldap").GetProperty("attributes");
        Assert.Equal(alice.Mails, Values(attributes, "mail"));
        Assert.Equal([alice.Uid], Values(attributes, "uid"));
        Assert.Equal(["Alice Liddell"], Values(attributes, "displayName"));
        Assert.Equal(["+44 20 7946 0000"], Values(attributes, "telephoneNumber"));
        Assert.Contains("inetOrgPerson", Values(attributes, "objectClass"));
        Assert.DoesNotContain(attributes.EnumerateObject(), a => a.Name.Equals("userPassword", StringComparison.OrdinalIgnoreCase));

        var raw = information.GetProperty("rawInformation");
        Assert.Equal(alice.Uid, raw.GetProperty("id").GetString());
        Assert.Equal(alice.Uid, raw.GetProperty("preferredUsername").GetString());
        Assert.Equal(alice.Mails[0], raw.GetProperty("email").GetString());
        Assert.Equal("Alice", raw.GetProperty("firstName").GetString());
        Assert.Equal("Liddell", raw.GetProperty("lastName").GetString());
        Assert.Equal("en-GB", raw.GetProperty("preferredLanguage").GetString());

        Assert.False(answer.TryGetProperty("userId", out _));
        var add = answer.GetProperty("addHumanUser");
        Assert.Equal(alice.Uid, add.GetProperty("username").GetString());
        var profile = add.GetProperty("profile");
        Assert.Equal(("Alice", "Liddell", "Alice Liddell", "en-GB"), (profile.GetProperty("givenName").GetString(), profile.GetProperty("familyName").GetString(),
            profile.GetProperty("displayName").GetString(), profile.GetProperty("preferredLanguage").GetString()));
        // The directory says nothing of verification: ZITADEL is asked to send a code.
        Assert.Equal(alice.Mails[0], add.GetProperty("email").GetProperty("email").GetString());
        Assert.Equal(JsonValueKind.Object, add.GetProperty("email").GetProperty("sendCode").ValueKind);
        Assert.Equal("+44 20 7946 0000", add.GetProperty("phone").GetProperty("phone").GetString());
        var link = Assert.Single(add.GetProperty("idpLinks").EnumerateArray());
        Assert.Equal((LdapFixture.Plain, alice.Uid, alice.Uid), (link.GetProperty("idpId").GetString(), link.GetProperty("userId").GetString(), link.GetProperty("userName").GetString()));
    }

    [Fact]
    public async Task A_binary_attribute_is_base64_and_a_missing_given_name_falls_back_to_the_user_name()
    {
        var (_, answer) = await SignInAndRetrieveAsync(TestDirectory.Bob.Mails[0], TestDirectory.Bob.Password);

        var attributes = answer.GetProperty("idpInformation").GetProperty("ldap").GetProperty("attributes");
        Assert.Equal([Convert.ToBase64String(TestDirectory.BobPhoto)], Values(attributes, "jpegPhoto"));
        var profile = answer.GetProperty("addHumanUser").GetProperty("profile");
        Assert.Equal(TestDirectory.Bob.Uid, profile.GetProperty("givenName").GetString());
        Assert.Equal("Builder", profile.GetProperty("familyName").GetString());
    }

    [Theory]
    [InlineData(LdapFixture.Plain)]
    [InlineData(LdapFixture.StartTls)]
    [InlineData(LdapFixture.Ldaps)]
    [InlineData(LdapFixture.Failover)]
    public async Task Every_way_to_the_directory_signs_in(string idpId)
    {
        var (_, answer) = await SignInAndRetrieveAsync(TestDirectory.Carol.Uid, TestDirectory.Carol.Password, idpId);

        Assert.Equal(TestDirectory.Carol.Uid, answer.GetProperty("idpInformation").GetProperty("userId").GetString());
        Assert.Equal(idpId, answer.GetProperty("idpInformation").GetProperty("idpId").GetString());
    }

    [Fact]
    public async Task Wrong_password_unknown_user_ambiguous_user_and_empty_password_answer_the_same_error_and_fail_their_intents()
    {
        var before = await CountFailedAsync();

        var answers = new List<string>();
        foreach (var (username, password) in new[]
                 {
                     (TestDirectory.Alice.Uid, "not-her-password"),
                     ("nobody", "whatever-1"),
                     ("shared@example.test", TestDirectory.Carol.Password),
                     (TestDirectory.Alice.Uid, ""),
                 })
        {
            using var response = await StartAsync(username, password);
            var error = await JsonOf(response, HttpStatusCode.BadRequest);
            Assert.Equal(StatusCode.InvalidArgument, (StatusCode)error.GetProperty("code").GetInt32());
            Assert.Equal("LDAP-Lgn4fd", GatewayErrorShape.AssertIdOf(error));
            answers.Add(error.ToString());
        }

        Assert.Single(answers.Distinct());
        Assert.Equal(before + 4, await CountFailedAsync());
    }

    [Theory]
    [InlineData("*")]
    [InlineData(")(uid=*")]
    [InlineData(@"\00")]
    [InlineData("al*")]
    [InlineData("*)(uid=alice")]
    [InlineData("alice)(|(uid=*")]
    [InlineData("alice\u0000")]
    public async Task A_username_built_to_inject_a_filter_matches_no_entry_even_with_a_real_password(string username)
    {
        using var response = await StartAsync(username, TestDirectory.Alice.Password);

        var error = await JsonOf(response, HttpStatusCode.BadRequest);
        Assert.Equal(StatusCode.InvalidArgument, (StatusCode)error.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData(LdapFixture.Down)]
    [InlineData(LdapFixture.Untrusted)]
    [InlineData(LdapFixture.Silent)]
    public async Task A_directory_that_is_down_untrusted_or_silent_answers_unavailable_within_its_timeout(string idpId)
    {
        var clock = Stopwatch.StartNew();
        using var response = await StartAsync(TestDirectory.Alice.Uid, TestDirectory.Alice.Password, idpId);
        var took = clock.Elapsed;

        var error = await JsonOf(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(StatusCode.Unavailable, (StatusCode)error.GetProperty("code").GetInt32());
        Assert.Equal("LDAP-Unv8dr", GatewayErrorShape.AssertIdOf(error));
        var limit = idpId == LdapFixture.Silent ? LdapFixture.SilentTimeoutSeconds : 2;
        Assert.True(took < TimeSpan.FromSeconds(limit + 1.5), $"answered after {took.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_linked_account_answers_its_user_at_start_and_update_human_user_at_retrieve()
    {
        var dave = TestDirectory.Dave;
        using var admin = fixture.Intents.LoginUiClientFor(fixture.Api);
        using var linked = await admin.PostAsJsonAsync("/v2/users/local-dave/links",
            new { idpLink = new { idpId = LdapFixture.Plain, userId = dave.Uid, userName = dave.Uid } });
        Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
        try
        {
            var (intent, answer) = await SignInAndRetrieveAsync(dave.Uid, dave.Password);

            Assert.Equal("local-dave", intent.GetProperty("userId").GetString());
            Assert.Equal("local-dave", answer.GetProperty("userId").GetString());
            Assert.False(answer.TryGetProperty("addHumanUser", out _));
            var update = answer.GetProperty("updateHumanUser");
            Assert.Equal("local-dave", update.GetProperty("userId").GetString());
            Assert.Equal("Dave", update.GetProperty("profile").GetProperty("givenName").GetString());
        }
        finally
        {
            using var _ = await admin.DeleteAsync($"/v2/users/local-dave/links/{LdapFixture.Plain}/{dave.Uid}");
        }
    }

    [Fact]
    public async Task Start_needs_the_provider_s_own_kind_of_request()
    {
        using var urls = await Client.PostAsJsonAsync("/v2/idp_intents",
            new { idpId = LdapFixture.Plain, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = IntentFixture.FailureUrl } });
        using var ldap = await StartAsync(TestDirectory.Alice.Uid, TestDirectory.Alice.Password, IntentFixture.OidcProvider);
        using var nul = await StartAsync(TestDirectory.Alice.Uid, TestDirectory.Alice.Password + "\u0000tail");

        Assert.Equal(StatusCode.InvalidArgument, (StatusCode)(await JsonOf(urls, HttpStatusCode.BadRequest)).GetProperty("code").GetInt32());
        Assert.Equal(StatusCode.InvalidArgument, (StatusCode)(await JsonOf(ldap, HttpStatusCode.BadRequest)).GetProperty("code").GetInt32());
        Assert.Contains("NUL", (await JsonOf(nul, HttpStatusCode.BadRequest)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Password_attempts_are_limited_per_username_as_well_as_per_address()
    {
        await using var limited = await fixture.Intents.StartInstanceAsync(fixture.Settings(new Dictionary<string, string?>
        {
            ["RateLimiting:PasswordAttemptsPerUsername"] = "3",
            ["RateLimiting:WindowSeconds"] = "600",
        }));

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var wrong = await StartAsync(TestDirectory.Carol.Uid, $"guess-{attempt}", instance: limited);
            statuses.Add(wrong.StatusCode);
        }
        // The same username in another case is the same username to the directory.
        using var refused = await StartAsync(TestDirectory.Carol.Uid.ToUpperInvariant(), TestDirectory.Carol.Password, instance: limited);
        using var other = await StartAsync(TestDirectory.Dave.Uid, TestDirectory.Dave.Password, instance: limited);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.BadRequest, status));
        var error = await JsonOf(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal(StatusCode.ResourceExhausted, (StatusCode)error.GetProperty("code").GetInt32());
        Assert.Equal("QUOTA-Pwd7at", GatewayErrorShape.AssertIdOf(error));
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Neither_passwords_nor_attribute_values_reach_the_logs_and_the_attributes_are_sealed_at_rest()
    {
        var alice = TestDirectory.Alice;
        using var wrong = await StartAsync(alice.Uid, "a-wrong-password-7731");
        var (intent, _) = await SignInAndRetrieveAsync(alice.Uid, alice.Password);

        var secrets = new[] { alice.Password, "a-wrong-password-7731", TestDirectory.ReaderPassword, alice.Mails[1], "20 7946 0000", TestDirectory.Bob.Password };
        Assert.DoesNotContain(fixture.Logs.Lines, line => secrets.Any(secret => line.ToString().Contains(secret, StringComparison.Ordinal)));
        var id = intent.GetProperty("idpIntentId").GetString()!;
        var sealedBytes = await TestSql.ScalarAsync<byte[]>(fixture.Intents.ConnectionString, "SELECT protected_ldap_attributes FROM idp_intents WHERE id = $1", id);
        Assert.NotEmpty(sealedBytes);
        Assert.DoesNotContain(alice.Mails[1], Encoding.UTF8.GetString(sealedBytes));
        Assert.DoesNotContain(alice.Mails[1], await TestSql.ScalarAsync<string>(fixture.Intents.ConnectionString, "SELECT raw_information FROM idp_intents WHERE id = $1", id));
    }

    private Task<long> CountFailedAsync() =>
        TestSql.ScalarAsync<long>(fixture.Intents.ConnectionString, "SELECT count(*) FROM idp_intents WHERE idp_id = $1 AND state = $2", LdapFixture.Plain, (short)IntentState.Failed);
}
