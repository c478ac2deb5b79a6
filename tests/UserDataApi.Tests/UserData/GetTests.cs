using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

public sealed class GetTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly UserDataClient _client = fixture.Client;
    private readonly TestAuthority _authority = fixture.Authority;

    private static string NewUser() => UserDataFixture.NewUser();

    private Task<System.Text.Json.JsonElement> Get(string token, params string[] keys) =>
        _client.PostAsync("get", new { identity_provider = "telegram", value_keys = keys }, token);

    [Fact]
    public async Task Get_of_a_stored_key_answers_0_with_its_value()
    {
        var user = NewUser();
        await fixture.SeedAsync(user, "telegram", "color", "blue", AccessScope.Private, "app-1");

        var answer = await Get(_authority.CreateToken(user), "color");

        Assert.Equal((int)ByIdpResultCode.Success, answer.Result());
        var value = Assert.Single(answer.GetProperty("values").EnumerateArray());
        Assert.Equal("color", value.GetProperty("value_key").GetString());
        Assert.Equal("blue", value.GetProperty("value_data").GetString());
        Assert.False(answer.TryGetProperty("request_id", out _));
    }

    [Fact]
    public async Task Get_of_unknown_keys_answers_1_with_empty_values()
    {
        var answer = await Get(_authority.CreateToken(NewUser()), "nothing-here", "nor-here");

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
        Assert.Empty(answer.GetProperty("values").EnumerateArray());
    }

    [Fact]
    public async Task Get_answers_found_keys_in_request_order_and_duplicates_once()
    {
        var user = NewUser();
        await fixture.SeedAsync(user, "telegram", "a", "1", AccessScope.Public, "app-1");
        await fixture.SeedAsync(user, "telegram", "b", "2", AccessScope.Public, "app-1");

        var answer = await Get(_authority.CreateToken(user), "b", "missing", "a", "b");

        Assert.Equal(0, answer.Result());
        Assert.Equal(["b", "a"], Keys(answer));
    }

    [Fact]
    public async Task Get_echoes_request_id_on_success_and_on_failure()
    {
        var token = _authority.CreateToken(NewUser());

        var found = await _client.PostAsync("get", new { request_id = long.MaxValue, identity_provider = "telegram", value_keys = new[] { "k" } }, token);
        var failed = await _client.PostAsync("get", new { request_id = -42L, identity_provider = "nowhere", value_keys = new[] { "k" } }, token);
        var unauthenticated = await _client.PostAsync("get", new { request_id = 7, identity_provider = "telegram", value_keys = new[] { "k" } }, null);

        Assert.Equal(long.MaxValue, found.GetProperty("request_id").GetInt64());
        Assert.Equal(-42, failed.GetProperty("request_id").GetInt64());
        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, failed.Result());
        Assert.Equal(7, unauthenticated.GetProperty("request_id").GetInt64());
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, unauthenticated.Result());
    }

    [Fact]
    public async Task Get_shows_own_records_and_other_apps_public_ones_but_not_their_private_ones()
    {
        var alice = NewUser();
        var bob = NewUser();
        await fixture.SeedAsync(alice, "telegram", "mine-private", "p1", AccessScope.Private, "app-1");
        await fixture.SeedAsync(alice, "telegram", "mine-public", "p2", AccessScope.Public, "app-1");
        await fixture.SeedAsync(alice, "telegram", "theirs-private", "p3", AccessScope.Private, "app-2");
        await fixture.SeedAsync(alice, "telegram", "theirs-public", "p4", AccessScope.Public, "app-2");
        await fixture.SeedAsync(bob, "telegram", "bob-public", "p5", AccessScope.Public, "app-1");
        string[] all = ["mine-private", "mine-public", "theirs-private", "theirs-public", "bob-public"];

        var asApp1 = await Get(_authority.CreateToken(alice, "app-1"), all);
        var asApp2 = await Get(_authority.CreateToken(alice, "app-2"), all);
        var asBob = await Get(_authority.CreateToken(bob, "app-2"), all);

        Assert.Equal(["mine-private", "mine-public", "theirs-public"], Keys(asApp1));
        Assert.Equal(["mine-public", "theirs-private", "theirs-public"], Keys(asApp2));
        Assert.Equal(["bob-public"], Keys(asBob));
    }

    [Fact]
    public async Task Get_files_records_under_their_identity_provider()
    {
        var user = NewUser();
        await fixture.SeedAsync(user, "google", "k", "from google", AccessScope.Public, "app-1");

        var telegram = await Get(_authority.CreateToken(user), "k");
        var google = await _client.PostAsync("get", new { identity_provider = "google", value_keys = new[] { "k" } }, _authority.CreateToken(user));

        Assert.Equal(1, telegram.Result());
        Assert.Equal("from google", google.GetProperty("values")[0].GetProperty("value_data").GetString());
    }

    [Fact]
    public async Task Get_without_token_answers_minus_1()
    {
        var answer = await _client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, null);

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, answer.Result());
        Assert.Empty(answer.GetProperty("values").EnumerateArray());
    }

    public static TheoryData<string> InvalidTokens => ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."];

    [Theory]
    [MemberData(nameof(InvalidTokens))]
    public async Task Get_with_malformed_token_answers_minus_1(string token)
    {
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Get(token, "k")).Result());
    }

    [Fact]
    public async Task Get_with_token_signed_by_an_unknown_key_answers_minus_1()
    {
        var stranger = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "stranger" };

        var answer = await Get(_authority.CreateToken(signingKey: stranger), "k");

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, answer.Result());
    }

    [Fact]
    public async Task Get_with_token_from_another_issuer_answers_minus_1()
    {
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Get(_authority.CreateToken(issuer: "https://elsewhere.example"), "k")).Result());
    }

    [Fact]
    public async Task Get_with_token_not_yet_valid_answers_minus_1()
    {
        var token = _authority.CreateToken(notBefore: DateTime.UtcNow.AddMinutes(5), expires: DateTime.UtcNow.AddMinutes(20));

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Get(token, "k")).Result());
    }

    [Fact]
    public async Task Get_with_token_without_sub_answers_minus_1()
    {
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Get(_authority.CreateToken(userId: null), "k")).Result());
    }

    [Fact]
    public async Task Get_with_expired_token_answers_minus_2()
    {
        var token = _authority.CreateToken(notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddMinutes(-5));

        Assert.Equal((int)ByIdpResultCode.TokenExpired, (await Get(token, "k")).Result());
    }

    [Fact]
    public async Task Get_with_token_expired_within_the_clock_skew_succeeds()
    {
        var token = _authority.CreateToken(NewUser(), notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddSeconds(-10));

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await Get(token, "k")).Result());
    }

    [Fact]
    public async Task Get_with_expired_token_from_another_issuer_answers_minus_1_not_minus_2()
    {
        var token = _authority.CreateToken(issuer: "https://elsewhere.example", notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddMinutes(-5));

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await Get(token, "k")).Result());
    }

    [Theory]
    [InlineData("email")]
    [InlineData("user-data-get")]
    [InlineData("email user-data-set")]
    public async Task Get_without_every_read_scope_answers_minus_3(string scopes)
    {
        Assert.Equal((int)ByIdpResultCode.AccessDenied, (await Get(_authority.CreateToken(scopes: scopes), "k")).Result());
    }

    [Fact]
    public async Task Token_failure_is_answered_before_a_bad_body()
    {
        var answer = await _client.PostRawAsync("get", "{not json", null);

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, answer.Result());
    }

    [Fact]
    public async Task Scope_failure_is_answered_before_a_bad_body()
    {
        var answer = await _client.PostRawAsync("get", "{not json", _authority.CreateToken(scopes: "email"));

        Assert.Equal((int)ByIdpResultCode.AccessDenied, answer.Result());
    }

    public static TheoryData<string> MalformedBodies =>
    [
        "",
        "not json",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"]",
        "[]",
        "null",
        "{}",
        "{\"identity_provider\": \"telegram\"}",
        "{\"value_keys\": [\"k\"]}",
        "{\"identity_provider\": 5, \"value_keys\": [\"k\"]}",
        "{\"identity_provider\": null, \"value_keys\": [\"k\"]}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": \"k\"}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [1]}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [null]}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": null}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": []}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"], \"request_id\": \"12\"}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"], \"request_id\": 1.5}",
        "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"], \"request_id\": 99999999999999999999}",
    ];

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Get_with_malformed_body_answers_minus_5(string body)
    {
        var answer = await _client.PostRawAsync("get", body, _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Empty(answer.GetProperty("values").EnumerateArray());
    }

    [Fact]
    public async Task Get_with_a_2_MiB_body_answers_minus_5()
    {
        var padding = new string('x', 2 * 1024 * 1024);
        var body = $"{{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"], \"padding\": \"{padding}\"}}";

        var answer = await _client.PostRawAsync("get", body, _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
    }

    [Fact]
    public async Task Get_with_a_non_json_content_type_answers_minus_5()
    {
        var answer = await _client.PostRawAsync("get", "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"]}", _authority.CreateToken(), "text/plain");

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
    }

    [Fact]
    public async Task Get_accepts_json_with_a_charset_and_ignores_unknown_fields()
    {
        var body = "{\"identity_provider\": \"telegram\", \"value_keys\": [\"k\"], \"something_new\": {\"x\": [1, 2]}}";

        var answer = await _client.PostRawAsync("get", body, _authority.CreateToken(NewUser()), "application/json; charset=utf-8");

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
    }

    [Fact]
    public async Task Get_with_an_identity_provider_not_in_the_catalog_answers_minus_6()
    {
        var token = _authority.CreateToken();

        var unknown = await _client.PostAsync("get", new { identity_provider = "myspace", value_keys = new[] { "k" } }, token);
        var wrongCase = await _client.PostAsync("get", new { identity_provider = "Telegram", value_keys = new[] { "k" } }, token);

        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, unknown.Result());
        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, wrongCase.Result());
    }

    [Fact]
    public async Task Get_with_more_keys_than_the_limit_answers_minus_7()
    {
        var keys = Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray();

        var tooMany = await Get(_authority.CreateToken(), keys);
        var atLimit = await Get(_authority.CreateToken(NewUser()), keys[..100]);

        Assert.Equal((int)ByIdpResultCode.KeysSizeLimitReached, tooMany.Result());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, atLimit.Result());
    }

    [Fact]
    public async Task Field_errors_are_answered_before_the_key_limit()
    {
        var keys = Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray();

        var answer = await _client.PostAsync("get", new { identity_provider = 5, value_keys = keys }, _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
    }

    private static string[] Keys(System.Text.Json.JsonElement answer) =>
        answer.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("value_key").GetString()!).ToArray();
}
