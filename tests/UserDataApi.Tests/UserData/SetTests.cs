using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

public sealed class SetTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly UserDataClient _client = fixture.Client;
    private readonly TestAuthority _authority = fixture.Authority;

    private Task<JsonElement> Set(string token, string key, string value, int? scope = null) =>
        _client.PostAsync("set", scope is null
            ? new { identity_provider = "telegram", value_key = key, value_data = value }
            : new { identity_provider = "telegram", value_key = key, value_data = value, access_scope = scope }, token);

    private Task<JsonElement> Get(string token, params string[] keys) =>
        _client.PostAsync("get", new { identity_provider = "telegram", value_keys = keys }, token);

    private static string? ValueOf(JsonElement getAnswer) =>
        getAnswer.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("value_data").GetString()).SingleOrDefault();

    [Fact]
    public async Task Set_stores_a_value_that_get_returns_and_answers_0()
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser());

        var answer = await Set(token, "color", "blue");

        Assert.Equal((int)ByIdpResultCode.Success, answer.Result());
        Assert.Equal(["result"], answer.EnumerateObject().Select(p => p.Name));
        Assert.Equal("blue", ValueOf(await Get(token, "color")));
    }

    [Fact]
    public async Task Set_echoes_request_id()
    {
        var answer = await _client.PostAsync("set", new { request_id = 99, identity_provider = "telegram", value_key = "k", value_data = "v" },
            _authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Equal(99, answer.GetProperty("request_id").GetInt64());
    }

    [Fact]
    public async Task Set_replaces_value_and_access_scope_of_an_owned_record()
    {
        var user = UserDataFixture.NewUser();
        var owner = _authority.CreateToken(user, "app-1");
        var other = _authority.CreateToken(user, "app-2");

        await Set(owner, "k", "first", scope: 1);
        Assert.Equal("first", ValueOf(await Get(other, "k")));
        Assert.Equal(0, (await Set(owner, "k", "second", scope: 0)).Result());

        Assert.Equal("second", ValueOf(await Get(owner, "k")));
        Assert.Equal(1, (await Get(other, "k")).Result());
        Assert.Equal(1, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Set_defaults_to_public_access()
    {
        var user = UserDataFixture.NewUser();

        await Set(_authority.CreateToken(user, "app-1"), "k", "shared by default");

        Assert.Equal("shared by default", ValueOf(await Get(_authority.CreateToken(user, "app-2"), "k")));
    }

    [Fact]
    public async Task Set_of_a_key_owned_by_another_client_app_answers_minus_7_and_changes_nothing()
    {
        var user = UserDataFixture.NewUser();
        var owner = _authority.CreateToken(user, "app-1");
        await Set(owner, "k", "original", scope: 0);

        var answer = await Set(_authority.CreateToken(user, "app-2"), "k", "hijacked", scope: 1);

        Assert.Equal((int)ByIdpResultCode.KeyAccessDenied, answer.Result());
        Assert.Equal("original", ValueOf(await Get(owner, "k")));
        Assert.Equal(1, (await Get(_authority.CreateToken(user, "app-2"), "k")).Result());
    }

    public static TheoryData<string> InvalidKeys =>
        ["", new string('k', 257), "nul\0key", "new\nline", "tab\tkey", "bell\u0007", "del\u007f", "c1\u0085"];

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task Set_with_an_invalid_key_answers_minus_8_and_stores_nothing(string key)
    {
        var user = UserDataFixture.NewUser();

        var answer = await Set(_authority.CreateToken(user), key, "v");

        Assert.Equal((int)ByIdpResultCode.KeyInvalid, answer.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Set_with_a_lone_surrogate_escape_in_the_key_is_not_valid_text_and_answers_minus_5()
    {
        var user = UserDataFixture.NewUser();

        var answer = await _client.PostRawAsync("set", """{"identity_provider":"telegram","value_key":"lone\ud800","value_data":"v"}""", _authority.CreateToken(user));

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Set_accepts_keys_of_exactly_the_maximum_length_counted_in_characters()
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser());
        var ascii = new string('k', 256);
        var emoji = string.Concat(Enumerable.Repeat("😀", 256));

        Assert.Equal(0, (await Set(token, ascii, "a")).Result());
        Assert.Equal(0, (await Set(token, emoji, "e")).Result());
        Assert.Equal((int)ByIdpResultCode.KeyInvalid, (await Set(token, emoji + "😀", "e")).Result());
    }

    public static TheoryData<string> UnicodeValues =>
    [
        "😀🎉👩‍👩‍👧‍👦",
        "مرحبا بالعالم",
        "שלום עולם",
        "e\u0301 combining, \u200f RLM, \ufeff BOM",
        "\"quotes\" \\ backslash / slash \u2028 \u2029",
        new string('x', 65536),
        string.Concat(Enumerable.Repeat("я😀", 65536 / 2)),
    ];

    [Theory]
    [MemberData(nameof(UnicodeValues))]
    public async Task Unicode_keys_and_values_round_trip_exactly(string value)
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser());
        var key = "ключ🔑" + value.Length;

        Assert.Equal(0, (await Set(token, key, value)).Result());
        var answer = await Get(token, key);

        Assert.Equal(key, answer.GetProperty("values")[0].GetProperty("value_key").GetString());
        Assert.Equal(value, ValueOf(answer));
    }

    [Fact]
    public async Task Set_with_a_value_over_the_limit_answers_minus_5_and_stores_nothing()
    {
        var user = UserDataFixture.NewUser();

        var answer = await Set(_authority.CreateToken(user), "k", new string('x', 65537));

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }

    public static TheoryData<string> InvalidSetBodies =>
    [
        """{"identity_provider":"telegram","value_key":"k","value_data":"v","access_scope":2}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":"v","access_scope":-1}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":"v","access_scope":"1"}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":"v","access_scope":0.5}""",
        """{"identity_provider":"telegram","value_key":"k"}""",
        """{"identity_provider":"telegram","value_data":"v"}""",
        """{"value_key":"k","value_data":"v"}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":null}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":5}""",
        """{"identity_provider":"telegram","value_key":7,"value_data":"v"}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":"nul\u0000inside"}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":"lone \ud800"}""",
        """{"identity_provider":"telegram","value_key":"k","value_data":{"nested":true}}""",
    ];

    [Theory]
    [MemberData(nameof(InvalidSetBodies))]
    public async Task Set_with_invalid_fields_answers_minus_5_and_stores_nothing(string body)
    {
        var user = UserDataFixture.NewUser();

        var answer = await _client.PostRawAsync("set", body, _authority.CreateToken(user));

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Set_needs_the_write_scopes()
    {
        var answer = await Set(_authority.CreateToken(scopes: "email user-data-get"), "k", "v");

        Assert.Equal((int)ByIdpResultCode.AccessDenied, answer.Result());
    }

    [Fact]
    public async Task Fifty_concurrent_sets_of_one_key_leave_one_row_with_one_of_the_values()
    {
        var user = UserDataFixture.NewUser();
        var token = _authority.CreateToken(user);
        var values = Enumerable.Range(0, 50).Select(i => $"value-{i}").ToArray();

        var answers = await Task.WhenAll(values.Select(v => Set(token, "contended", v)));

        Assert.All(answers, a => Assert.Equal((int)ByIdpResultCode.Success, a.Result()));
        Assert.Equal(1, await fixture.CountRecordsAsync(user));
        Assert.Contains(ValueOf(await Get(token, "contended")), values);
    }

    [Fact]
    public async Task Sequential_sets_leave_the_last_value()
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser());

        foreach (var value in new[] { "one", "two", "three" })
        {
            await Set(token, "k", value);
        }

        Assert.Equal("three", ValueOf(await Get(token, "k")));
    }
}
