using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>The result codes every user-data endpoint shares, and the answer shape the SDKs decode.</summary>
public sealed class EveryEndpointTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly UserDataClient _client = fixture.Client;
    private readonly TestAuthority _authority = fixture.Authority;

    private async Task<JsonElement> Call(string endpoint, string? token, object? body = null)
    {
        var answer = await _client.PostAsync(endpoint, body ?? EndpointCases.Endpoints[endpoint].Body, token);
        foreach (var field in EndpointCases.Endpoints[endpoint].AnswerFields)
        {
            Assert.True(answer.TryGetProperty(field, out _), $"{endpoint} answer lacks {field}: {answer}");
        }
        return answer;
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task Without_a_token_every_endpoint_answers_minus_1(string endpoint)
    {
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Call(endpoint, null)).Result());
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Call(endpoint, "garbage")).Result());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task With_an_expired_token_every_endpoint_answers_minus_2(string endpoint)
    {
        var token = _authority.CreateToken(notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-2));

        Assert.Equal((int)ByIdpResultCode.TokenExpired, (await Call(endpoint, token)).Result());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task With_only_the_email_scope_every_endpoint_answers_minus_3(string endpoint)
    {
        Assert.Equal((int)ByIdpResultCode.AccessDenied, (await Call(endpoint, _authority.CreateToken(scopes: "email"))).Result());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task With_a_body_that_is_not_json_every_endpoint_answers_minus_5(string endpoint)
    {
        var answer = await _client.PostRawAsync(endpoint, "{\"identity_provider\":", _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.All(EndpointCases.Endpoints[endpoint].AnswerFields, field => Assert.True(answer.TryGetProperty(field, out _)));
    }

    [Theory]
    [MemberData(nameof(EndpointCases.ByIdpNames), MemberType = typeof(EndpointCases))]
    public async Task With_a_missing_identity_provider_every_by_idp_endpoint_answers_minus_5(string endpoint)
    {
        var answer = await _client.PostRawAsync(endpoint, """{"value_key":"k","value_data":"v","value_keys":["k"]}""", _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.ByIdpNames), MemberType = typeof(EndpointCases))]
    public async Task With_an_unknown_identity_provider_every_by_idp_endpoint_answers_minus_6(string endpoint)
    {
        var answer = await Call(endpoint, _authority.CreateToken(), EndpointCases.BodyWith(endpoint, "TELEGRAM"));

        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, answer.Result());
    }

    [Theory]
    [InlineData("scope")]
    [InlineData("scp-string")]
    [InlineData("scp-array")]
    public async Task Scopes_come_from_scope_or_from_scp_as_a_string_or_an_array(string form)
    {
        var user = UserDataFixture.NewUser();
        string[] scopes = ["email", "user-data-get", "user-data-set"];
        var token = _authority.CreateToken(user, scopes: "", tweak: descriptor =>
        {
            descriptor.Claims.Remove("scope");
            descriptor.Claims[form == "scope" ? "scope" : "scp"] = form == "scp-array" ? scopes : string.Join(' ', scopes);
        });
        var readOnly = _authority.CreateToken(user, scopes: "", tweak: descriptor =>
        {
            descriptor.Claims.Remove("scope");
            descriptor.Claims["scp"] = new[] { "email", "user-data-get" };
        });

        var set = await _client.PostAsync("set", new { identity_provider = "telegram", value_key = "k", value_data = "v" }, token);
        var get = await _client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, token);
        var refused = await _client.PostAsync("set", new { identity_provider = "telegram", value_key = "k", value_data = "w" }, readOnly);

        Assert.Equal((int)ByIdpResultCode.Success, set.Result());
        Assert.Equal((int)ByIdpResultCode.Success, get.Result());
        Assert.Equal((int)ByIdpResultCode.AccessDenied, refused.Result());
    }

    [Fact]
    public async Task Checks_answer_in_the_order_of_spec_3_limits_before_identity_provider_before_storage()
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser());
        var tooManyKeys = Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray();

        var limitFirst = await _client.PostAsync("get", new { identity_provider = "nowhere", value_keys = tooManyKeys }, token);
        var bodyFirst = await _client.PostAsync("set", new { identity_provider = "nowhere", value_key = "k", value_data = "v", access_scope = 7 }, token);
        var providerBeforeKey = await _client.PostAsync("set", new { identity_provider = "nowhere", value_key = "", value_data = "v" }, token);
        var keyAfterProvider = await _client.PostAsync("set", new { identity_provider = "telegram", value_key = "", value_data = "v" }, token);

        Assert.Equal((int)ByIdpResultCode.KeysSizeLimitReached, limitFirst.Result());
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, bodyFirst.Result());
        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, providerBeforeKey.Result());
        Assert.Equal((int)ByIdpResultCode.KeyInvalid, keyAfterProvider.Result());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.FamilyNames), MemberType = typeof(EndpointCases))]
    public async Task Checks_answer_in_the_order_of_spec_3_in_every_family(string family)
    {
        var calls = new FamilyCalls(_client);
        var user = UserDataFixture.NewUser();
        var token = _authority.CreateToken(user);
        var expired = _authority.CreateToken(user, notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-2));
        var unscoped = _authority.CreateToken(user, scopes: "email");
        var tooManyKeys = Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray();
        var byIdp = family == "by-idp";
        var keysSizeLimit = byIdp ? (int)ByIdpResultCode.KeysSizeLimitReached : (int)ByUserIdResultCode.KeysSizeLimitReached;
        var keyInvalid = byIdp ? (int)ByIdpResultCode.KeyInvalid : (int)ByUserIdResultCode.KeyInvalid;

        // token before scopes before body
        Assert.Equal(-2, (await _client.PostRawAsync($"{family}/get", "not json", expired)).Result());
        Assert.Equal(-3, (await _client.PostRawAsync($"{family}/get", "not json", unscoped)).Result());
        // body before limits: a field error among too many keys is -5
        Assert.Equal(-5, (await calls.PostAsync(family, "get", new { value_keys = tooManyKeys.Append(null).ToArray() }, token)).Result());
        Assert.Equal(keysSizeLimit, (await calls.GetAsync(family, token, tooManyKeys)).Result());
        // field rules before storage's key rules
        Assert.Equal(-5, (await calls.PostAsync(family, "set", new { value_key = "", value_data = "v", access_scope = 7 }, token)).Result());
        Assert.Equal(keyInvalid, (await calls.SetAsync(family, token, "")).Result());
        if (byIdp)
        {
            // limits before identity provider before storage
            Assert.Equal(keysSizeLimit, (await calls.PostAsync(family, "get", new { identity_provider = "nowhere", value_keys = tooManyKeys }, token)).Result());
            Assert.Equal(-6, (await calls.PostAsync(family, "set", new { identity_provider = "nowhere", value_key = "", value_data = "v" }, token)).Result());
        }
        else
        {
            // no identity provider to check: a stray one is ignored
            Assert.Equal(0, (await calls.PostAsync(family, "set", new { identity_provider = "nowhere", value_key = "k", value_data = "v" }, token)).Result());
            Assert.Equal(0, (await calls.PostAsync(family, "get", new { identity_provider = 5, value_keys = new[] { "k" } }, token)).Result());
        }
        if (family == "by-email")
        {
            // an unvouched email is an access check: before the body
            var unverified = _authority.CreateToken(user, tweak: d => d.Claims["email_verified"] = false);
            Assert.Equal(-3, (await _client.PostRawAsync($"{family}/get", "not json", unverified)).Result());
        }
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task Every_endpoint_echoes_request_id_on_an_early_refusal(string endpoint)
    {
        var body = JsonSerializer.SerializeToNode(EndpointCases.Endpoints[endpoint].Body)!.AsObject();
        body["request_id"] = -42;

        var answer = await _client.PostAsync(endpoint, body, _authority.CreateToken(UserDataFixture.NewUser(), scopes: "email"));

        Assert.Equal(-3, answer.Result());
        Assert.Equal(-42, answer.GetProperty("request_id").GetInt64());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.ByIdpNames), MemberType = typeof(EndpointCases))]
    public async Task Every_by_idp_endpoint_echoes_request_id_even_on_failure(string endpoint)
    {
        var body = JsonSerializer.SerializeToNode(EndpointCases.BodyWith(endpoint, "nowhere"))!.AsObject();
        body["request_id"] = 1234567890123;

        var answer = await _client.PostAsync(endpoint, body, _authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Equal(1234567890123, answer.GetProperty("request_id").GetInt64());
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task Every_endpoint_answers_a_valid_request_with_success(string endpoint)
    {
        var answer = await Call(endpoint, _authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Contains(answer.Result(), new[] { (int)ByIdpResultCode.Success, (int)ByIdpResultCode.SuccessNotFound });
        Assert.False(answer.TryGetProperty("request_id", out _));
    }
}
