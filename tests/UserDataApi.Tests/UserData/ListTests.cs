using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

public sealed class ListTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly UserDataClient _client = fixture.Client;
    private readonly TestAuthority _authority = fixture.Authority;

    private Task<JsonElement> Set(string token, string key, int scope, string identityProvider = "telegram") =>
        _client.PostAsync("set", new { identity_provider = identityProvider, value_key = key, value_data = "v", access_scope = scope }, token);

    private Task<JsonElement> ListGet(string token) =>
        _client.PostAsync("list-get", new { identity_provider = "telegram" }, token);

    private Task<JsonElement> SharedListGet(string token, string? searchId = null, int? pageSize = null) =>
        _client.PostAsync("shared-list-get", new { identity_provider = "telegram", search_id = searchId, page_size = pageSize }, token);

    [Fact]
    public async Task List_get_with_no_keys_answers_1_with_empty_arrays()
    {
        var answer = await ListGet(_authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
        Assert.Empty(answer.Strings("keys_private"));
        Assert.Empty(answer.Strings("keys_public"));
    }

    [Fact]
    public async Task List_get_splits_the_client_apps_own_keys_by_access_scope()
    {
        var user = UserDataFixture.NewUser();
        var app1 = _authority.CreateToken(user, "app-1");
        await Set(app1, "b-private", 0);
        await Set(app1, "a-private", 0);
        await Set(app1, "c-public", 1);
        await Set(_authority.CreateToken(user, "app-2"), "other-app", 1);
        await Set(_authority.CreateToken(UserDataFixture.NewUser(), "app-1"), "other-user", 1);
        await Set(app1, "other-provider", 1, "google");

        var answer = await _client.PostAsync("list-get", new { request_id = 3, identity_provider = "telegram" }, app1);

        Assert.Equal((int)ByIdpResultCode.Success, answer.Result());
        Assert.Equal(3, answer.GetProperty("request_id").GetInt64());
        Assert.Equal(["a-private", "b-private"], answer.Strings("keys_private"));
        Assert.Equal(["c-public"], answer.Strings("keys_public"));
    }

    [Fact]
    public async Task Shared_list_get_with_nothing_shared_answers_1_with_empty_cursor()
    {
        var user = UserDataFixture.NewUser();
        await Set(_authority.CreateToken(user, "app-1"), "own", 1);
        await Set(_authority.CreateToken(user, "app-2"), "private-elsewhere", 0);

        var answer = await SharedListGet(_authority.CreateToken(user, "app-1"));

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
        Assert.Empty(answer.Strings("keys_shared"));
        Assert.Equal("", answer.GetProperty("next_search_id").GetString());
    }

    [Fact]
    public async Task Shared_list_get_lists_only_other_apps_public_keys_of_this_user()
    {
        var user = UserDataFixture.NewUser();
        await Set(_authority.CreateToken(user, "app-1"), "own-public", 1);
        await Set(_authority.CreateToken(user, "app-2"), "theirs-public", 1);
        await Set(_authority.CreateToken(user, "app-2"), "theirs-private", 0);
        await Set(_authority.CreateToken(user, "app-3"), "third-public", 1);
        await Set(_authority.CreateToken(UserDataFixture.NewUser(), "app-2"), "other-user", 1);

        var answer = await SharedListGet(_authority.CreateToken(user, "app-1"));

        Assert.Equal(0, answer.Result());
        Assert.Equal(["theirs-public", "third-public"], answer.Strings("keys_shared"));
        Assert.Equal("", answer.GetProperty("next_search_id").GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task Shared_list_get_pages_through_250_keys_returning_each_once(int pageSize)
    {
        var user = UserDataFixture.NewUser();
        var expected = Enumerable.Range(0, 250).Select(i => $"shared-{i:D3}").ToArray();
        foreach (var key in expected)
        {
            await fixture.SeedAsync(user, "telegram", key, "v", Persistence.AccessScope.Public, "app-2");
        }
        var token = _authority.CreateToken(user, "app-1");

        var listed = new List<string>();
        string? searchId = null;
        for (var page = 0; page < 300; page++)
        {
            var answer = await SharedListGet(token, searchId, pageSize);
            Assert.Equal(0, answer.Result());
            var keys = answer.Strings("keys_shared");
            listed.AddRange(keys);
            searchId = answer.GetProperty("next_search_id").GetString();
            Assert.Equal(keys.Length == pageSize, searchId != "");
            if (searchId == "")
            {
                break;
            }
        }

        Assert.Equal(expected, listed);
    }

    [Fact]
    public async Task After_a_full_last_page_the_next_page_is_empty_with_result_0()
    {
        var user = UserDataFixture.NewUser();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await Set(_authority.CreateToken(user, "app-2"), key, 1);
        }
        var token = _authority.CreateToken(user, "app-1");

        var first = await SharedListGet(token, pageSize: 2);
        var second = await SharedListGet(token, first.GetProperty("next_search_id").GetString(), 2);
        var third = await SharedListGet(token, second.GetProperty("next_search_id").GetString(), 2);

        Assert.Equal(["a", "b"], first.Strings("keys_shared"));
        Assert.Equal(["c", "d"], second.Strings("keys_shared"));
        Assert.Equal(0, third.Result());
        Assert.Empty(third.Strings("keys_shared"));
        Assert.Equal("", third.GetProperty("next_search_id").GetString());
    }

    [Fact]
    public async Task Shared_list_get_defaults_to_pages_of_100_and_treats_empty_search_id_as_first_page()
    {
        var user = UserDataFixture.NewUser();
        for (var i = 0; i < 101; i++)
        {
            await fixture.SeedAsync(user, "telegram", $"k{i:D3}", "v", Persistence.AccessScope.Public, "app-2");
        }

        var answer = await _client.PostAsync("shared-list-get", new { identity_provider = "telegram", search_id = "" }, _authority.CreateToken(user, "app-1"));

        Assert.Equal(100, answer.Strings("keys_shared").Length);
        Assert.NotEqual("", answer.GetProperty("next_search_id").GetString());
    }

    [Fact]
    public async Task A_forged_or_borrowed_search_id_answers_minus_5()
    {
        var alice = UserDataFixture.NewUser();
        foreach (var key in new[] { "a", "b", "c" })
        {
            await Set(_authority.CreateToken(alice, "app-2"), key, 1);
        }
        var real = (await SharedListGet(_authority.CreateToken(alice, "app-1"), pageSize: 1)).GetProperty("next_search_id").GetString()!;
        var tampered = real[..^2] + (real[^2] == 'A' ? "B" : "A") + real[^1];

        Assert.Equal(0, (await SharedListGet(_authority.CreateToken(alice, "app-1"), real, 1)).Result());
        foreach (var forged in new[] { "nonsense", "AQ", tampered, Convert.ToBase64String("\u0001abcdefghijklmnopqrstuvwxyz"u8) })
        {
            Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await SharedListGet(_authority.CreateToken(alice, "app-1"), forged, 1)).Result());
        }
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await SharedListGet(_authority.CreateToken(UserDataFixture.NewUser(), "app-1"), real, 1)).Result());
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await SharedListGet(_authority.CreateToken(alice, "app-3"), real, 1)).Result());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"10\"")]
    [InlineData("4294967296")]
    public async Task Shared_list_get_with_a_bad_page_size_answers_minus_5(string pageSize)
    {
        var answer = await _client.PostRawAsync("shared-list-get", $$"""{"identity_provider":"telegram","page_size":{{pageSize}}}""", _authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Empty(answer.Strings("keys_shared"));
        Assert.Equal("", answer.GetProperty("next_search_id").GetString());
    }

    [Fact]
    public async Task Shared_list_get_accepts_page_size_1000()
    {
        var answer = await SharedListGet(_authority.CreateToken(UserDataFixture.NewUser()), pageSize: 1000);

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
    }
}
