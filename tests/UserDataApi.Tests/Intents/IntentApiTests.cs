using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>Authentication, input checks, links and storage of the intent API, in the gateway's error shape.</summary>
public sealed class IntentApiTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static readonly string ValidStart =
        $$$"""{"idpId":"{{{IntentFixture.OidcProvider}}}","urls":{"successUrl":"{{{IntentFixture.SuccessUrl}}}","failureUrl":"{{{IntentFixture.FailureUrl}}}"}}""";

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response, HttpStatusCode status, StatusCode code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, (StatusCode)error.GetProperty("code").GetInt32());
        GatewayErrorShape.AssertIdOf(error);
        return error;
    }

    [Fact]
    public async Task Intent_calls_without_a_valid_token_answer_401()
    {
        using var anonymous = fixture.First.CreateClient();
        using var expired = fixture.First.CreateClient();
        expired.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            fixture.Authority.CreateToken(scopes: "idp-intents", notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-5)));

        await ErrorOf(await anonymous.PostAsync("/v2/idp_intents", Json(ValidStart)), HttpStatusCode.Unauthorized, StatusCode.Unauthenticated);
        await ErrorOf(await expired.PostAsync("/v2/idp_intents", Json(ValidStart)), HttpStatusCode.Unauthorized, StatusCode.Unauthenticated);
        await ErrorOf(await anonymous.PostAsync("/v2/idp_intents/1", Json("{}")), HttpStatusCode.Unauthorized, StatusCode.Unauthenticated);
        await ErrorOf(await anonymous.PostAsync("/v2/users/u/links/_search", Json("{}")), HttpStatusCode.Unauthorized, StatusCode.Unauthenticated);
        await ErrorOf(await anonymous.DeleteAsync("/v2/users/u/links/a/b"), HttpStatusCode.Unauthorized, StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task Intent_calls_without_the_intents_scope_answer_403()
    {
        using var client = fixture.ClientFor(fixture.First, scopes: "email user-data-get");

        await ErrorOf(await client.PostAsync("/v2/idp_intents", Json(ValidStart)), HttpStatusCode.Forbidden, StatusCode.PermissionDenied);
        await ErrorOf(await client.PostAsync("/v2/users/u/links", Json("{}")), HttpStatusCode.Forbidden, StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task Guessing_intent_tokens_is_rate_limited_per_ip_whatever_the_client_app()
    {
        await using var limited = await fixture.StartInstanceAsync(new Dictionary<string, string?>
        {
            ["RateLimiting:PermitsPerIp"] = "5",
            ["RateLimiting:WindowSeconds"] = "600",
        });
        var (state, _) = await fixture.StartIntentAsync(limited);
        var id = await fixture.IntentIdOfStateAsync(state);

        var statuses = new List<HttpStatusCode>();
        for (var guess = 0; guess < 8; guess++)
        {
            using var client = limited.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                fixture.Authority.CreateToken(clientApp: $"guesser-{guess}", scopes: "idp-intents"));
            using var response = await client.PostAsync($"/v2/idp_intents/{id}", Json($$"""{"idpIntentToken":"guess-{{guess}}"}"""));
            statuses.Add(response.StatusCode);
        }

        // Starting the intent took one permit: four guesses are answered (403: the token does not match), the rest refused unread.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Forbidden, 4), statuses.Take(4));
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 4), statuses.Skip(4));
        using var refused = await limited.CreateClient().PostAsync($"/v2/idp_intents/{id}", Json("{}"));
        await ErrorOf(refused, HttpStatusCode.TooManyRequests, StatusCode.ResourceExhausted);
    }

    [Fact]
    public async Task Nul_in_callback_parameters_and_an_unreadable_callback_form_answer_400()
    {
        var (state, _) = await fixture.StartIntentAsync(fixture.First);
        using var anonymous = fixture.First.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var brokenForm = new StringContent("--x\r\nContent-Disposition: form-data; name=\"state\"\r\n\r\nno end", Encoding.UTF8);
        brokenForm.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");

        await ErrorOf(await anonymous.GetAsync($"/idps/callback?state={Uri.EscapeDataString(state)}&error=access_denied&error_description=a%00b"), HttpStatusCode.BadRequest, StatusCode.InvalidArgument);
        await ErrorOf(await anonymous.PostAsync("/idps/callback", brokenForm), HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        // The intent is untouched: a proper callback still completes it.
        using var completed = await anonymous.GetAsync($"/idps/callback?state={Uri.EscapeDataString(state)}&error=access_denied");
        Assert.Equal(HttpStatusCode.Redirect, completed.StatusCode);
        Assert.StartsWith(IntentFixture.FailureUrl, completed.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Start_with_an_unknown_provider_answers_404()
    {
        using var response = await fixture.ClientFor(fixture.First).PostAsync("/v2/idp_intents", Json(ValidStart.Replace(IntentFixture.OidcProvider, "myspace")));

        await ErrorOf(response, HttpStatusCode.NotFound, StatusCode.NotFound);
    }

    public static TheoryData<string> InvalidStarts =>
    [
        "not json",
        "{}",
        """{"idpId":"test-oidc"}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"/relative","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"javascript:alert(1)","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://evil.example/steal","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok","failureUrl":"https://login.example.evil.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://user@login.example/ok","failureUrl":"https://login.example/no"}}""",
        """{"idpId":5,"urls":{"successUrl":"https://login.example/ok","failureUrl":"https://login.example/no"}}""",
        // Control characters, which URL parsing would drop and a Location header cannot carry: CR, LF, NUL, tab, DEL, C1.
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok\r\nSet-Cookie: a=b","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok","failureUrl":"https://login.example/no\nx"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/o\u0000k","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok","failureUrl":"https://login.example/\tno"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok\u007f","failureUrl":"https://login.example/no"}}""",
        """{"idpId":"test-oidc","urls":{"successUrl":"https://login.example/ok","failureUrl":"https://login.example/no\u0085"}}""",
    ];

    [Theory]
    [MemberData(nameof(InvalidStarts))]
    public async Task Start_with_invalid_input_answers_400(string body)
    {
        using var response = await fixture.ClientFor(fixture.First).PostAsync("/v2/idp_intents", Json(body));

        await ErrorOf(response, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Links_can_be_added_listed_and_removed()
    {
        var user = "local-" + Guid.NewGuid().ToString("N");
        using var client = fixture.LoginUiClientFor(fixture.First);
        var link = $$$"""{"idpLink":{"idpId":"{{{IntentFixture.OAuthProvider}}}","userId":"ext-{{{user}}}","userName":"ext name"}}""";

        using var added = await client.PostAsync($"/v2/users/{user}/links", Json(link));
        var details = JsonDocument.Parse(await added.Content.ReadAsStringAsync()).RootElement.GetProperty("details");
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal("org-test", details.GetProperty("resourceOwner").GetString());
        await ErrorOf(await client.PostAsync($"/v2/users/someone-else/links", Json(link)), HttpStatusCode.Conflict, StatusCode.AlreadyExists);

        using var listed = await client.PostAsync($"/v2/users/{user}/links/_search", Json(""));
        var list = JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("1", list.GetProperty("details").GetProperty("totalResult").GetString());
        var only = Assert.Single(list.GetProperty("result").EnumerateArray());
        Assert.Equal(IntentFixture.OAuthProvider, only.GetProperty("idpId").GetString());
        Assert.Equal($"ext-{user}", only.GetProperty("userId").GetString());
        Assert.Equal("ext name", only.GetProperty("userName").GetString());

        using var removed = await client.DeleteAsync($"/v2/users/{user}/links/{IntentFixture.OAuthProvider}/ext-{user}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        await ErrorOf(await client.DeleteAsync($"/v2/users/{user}/links/{IntentFixture.OAuthProvider}/ext-{user}"), HttpStatusCode.NotFound, StatusCode.NotFound);
        using var empty = await client.PostAsync($"/v2/users/{user}/links/_search", Json("""{"query":{"offset":"9223372036854775808","limit":10,"asc":true}}"""));
        var none = JsonDocument.Parse(await empty.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        // protojson leaves out an empty repeated field, and a zero total (SPEC §4.1).
        Assert.False(none.TryGetProperty("result", out _));
        Assert.False(none.GetProperty("details").TryGetProperty("totalResult", out _));
    }

    [Theory]
    [InlineData("""{"idpLink":{"idpId":"myspace","userId":"x","userName":"y"}}""", HttpStatusCode.NotFound, StatusCode.NotFound)]
    [InlineData("""{"idpLink":{"idpId":"test-oidc"}}""", HttpStatusCode.BadRequest, StatusCode.InvalidArgument)]
    [InlineData("""{}""", HttpStatusCode.BadRequest, StatusCode.InvalidArgument)]
    [InlineData("""[1,2]""", HttpStatusCode.BadRequest, StatusCode.InvalidArgument)]
    public async Task Adding_an_invalid_link_is_refused(string body, HttpStatusCode status, StatusCode code)
    {
        await ErrorOf(await fixture.LoginUiClientFor(fixture.First).PostAsync("/v2/users/u1/links", Json(body)), status, code);
    }

    [Fact]
    public async Task Provider_tokens_and_intent_tokens_are_not_stored_in_clear()
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        var landing = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery((await fixture.DeliverCallbackAsync(fixture.First, callback)).Query);
        var id = landing["id"].ToString();
        using var retrieved = await fixture.RetrieveAsync(fixture.First, id, landing["token"]);
        var oauth = JsonDocument.Parse(await retrieved.Content.ReadAsStringAsync()).RootElement.GetProperty("idpInformation").GetProperty("oauth");

        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT row_to_json(i)::text FROM idp_intents i WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        var row = (string)(await command.ExecuteScalarAsync())!;

        Assert.DoesNotContain(oauth.GetProperty("accessToken").GetString()!, row);
        Assert.DoesNotContain(oauth.GetProperty("idToken").GetString()!, row);
        Assert.DoesNotContain(landing["token"].ToString(), row);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(oauth.GetProperty("accessToken").GetString()![..20])).ToLowerInvariant(), row);
    }

    [Fact]
    public async Task A_retrieve_the_database_holds_past_the_command_timeout_answers_503_unavailable_and_the_next_is_read()
    {
        await using var impatient = await fixture.StartInstanceAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:UserData"] = fixture.ConnectionString + ";Command Timeout=1",
        });
        using var client = impatient.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Authority.CreateToken(scopes: "idp-intents"));
        var (state, _) = await fixture.StartIntentAsync(impatient);
        var id = await fixture.IntentIdOfStateAsync(state);
        const string Guess = """{"idpIntentToken":"a-guess"}""";
        await ErrorOf(await client.PostAsync($"/v2/idp_intents/{id}", Json(Guess)), HttpStatusCode.Forbidden, StatusCode.PermissionDenied);

        await using (var locked = await RecordsLock.HoldAsync(fixture.ConnectionString, "idp_intents"))
        {
            var started = DateTime.UtcNow;
            await ErrorOf(await client.PostAsync($"/v2/idp_intents/{id}", Json(Guess)), HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable);
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));
            await locked.ReleaseAsync();
        }

        await ErrorOf(await client.PostAsync($"/v2/idp_intents/{id}", Json(Guess)), HttpStatusCode.Forbidden, StatusCode.PermissionDenied);
    }
}
