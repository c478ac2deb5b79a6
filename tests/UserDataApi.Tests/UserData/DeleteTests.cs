using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

public sealed class DeleteTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly UserDataClient _client = fixture.Client;
    private readonly TestAuthority _authority = fixture.Authority;

    private Task<JsonElement> Set(string token, string key) =>
        _client.PostAsync("set", new { identity_provider = "telegram", value_key = key, value_data = "v" }, token);

    private Task<JsonElement> Delete(string token, params string[] keys) =>
        _client.PostAsync("delete", new { identity_provider = "telegram", value_keys = keys }, token);

    [Fact]
    public async Task Delete_removes_own_keys_and_answers_0()
    {
        var user = UserDataFixture.NewUser();
        var token = _authority.CreateToken(user);
        await Set(token, "a");
        await Set(token, "b");
        await Set(token, "keep");

        var answer = await Delete(token, "a", "b", "a", "never-existed");

        Assert.Equal((int)ByIdpResultCode.Success, answer.Result());
        Assert.Equal(1, await fixture.CountRecordsAsync(user));
        Assert.Equal(1, (await _client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "a", "b" } }, token)).Result());
    }

    [Fact]
    public async Task Concurrent_deletes_listing_the_same_keys_in_opposite_orders_never_fail()
    {
        // Another client app's keys: every delete locks all of them and removes none, so they stay to be
        // locked again; rows locked in the order each caller listed them would deadlock (answered -4).
        var user = UserDataFixture.NewUser();
        var owner = _authority.CreateToken(user, clientApp: "app-2");
        var keys = Enumerable.Range(0, 20).Select(i => $"locked-{i:D2}").ToArray();
        foreach (var key in keys)
        {
            await Set(owner, key);
        }
        var token = _authority.CreateToken(user);

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Delete(token, i % 2 == 0 ? keys : keys.Reverse().ToArray())));

        Assert.All(answers, answer => Assert.Equal((int)ByIdpResultCode.KeyAccessDenied, answer.Result()));
        Assert.Equal(keys.Length, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Delete_of_keys_that_do_not_exist_answers_1()
    {
        var answer = await _client.PostAsync("delete", new { request_id = 5, identity_provider = "telegram", value_keys = new[] { "ghost" } },
            _authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
        Assert.Equal(5, answer.GetProperty("request_id").GetInt64());
    }

    [Fact]
    public async Task Delete_with_a_foreign_key_in_the_list_answers_minus_7_and_removes_nothing()
    {
        var user = UserDataFixture.NewUser();
        var mine = _authority.CreateToken(user, "app-1");
        var theirs = _authority.CreateToken(user, "app-2");
        await Set(mine, "mine-1");
        await Set(mine, "mine-2");
        await Set(theirs, "theirs");

        var answer = await Delete(mine, "mine-1", "theirs", "mine-2");

        Assert.Equal((int)ByIdpResultCode.KeyAccessDenied, answer.Result());
        Assert.Equal(3, await fixture.CountRecordsAsync(user));
    }

    [Fact]
    public async Task Delete_touches_only_the_callers_user_and_identity_provider()
    {
        var alice = UserDataFixture.NewUser();
        var bob = UserDataFixture.NewUser();
        await Set(_authority.CreateToken(alice), "k");
        await Set(_authority.CreateToken(bob), "k");
        await _client.PostAsync("set", new { identity_provider = "google", value_key = "k", value_data = "v" }, _authority.CreateToken(alice));

        Assert.Equal(0, (await Delete(_authority.CreateToken(alice), "k")).Result());

        Assert.Equal(1, await fixture.CountRecordsAsync(alice));
        Assert.Equal(1, await fixture.CountRecordsAsync(bob));
    }

    [Fact]
    public async Task Delete_needs_the_write_scopes()
    {
        var user = UserDataFixture.NewUser();
        await Set(_authority.CreateToken(user), "k");

        var answer = await Delete(_authority.CreateToken(user, scopes: "email user-data-get"), "k");

        Assert.Equal((int)ByIdpResultCode.AccessDenied, answer.Result());
        Assert.Equal(1, await fixture.CountRecordsAsync(user));
    }

    [Theory]
    [InlineData("""{"identity_provider":"telegram","value_keys":[]}""")]
    [InlineData("""{"identity_provider":"telegram","value_keys":[null]}""")]
    [InlineData("""{"identity_provider":"telegram"}""")]
    [InlineData("""{"identity_provider":"telegram","value_keys":"k"}""")]
    public async Task Delete_with_invalid_fields_answers_minus_5(string body)
    {
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await _client.PostRawAsync("delete", body, _authority.CreateToken())).Result());
    }

    [Fact]
    public async Task Delete_of_more_keys_than_the_limit_answers_minus_5_and_removes_nothing()
    {
        var user = UserDataFixture.NewUser();
        var token = _authority.CreateToken(user);
        await Set(token, "k0");

        var answer = await Delete(token, Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray());

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, answer.Result());
        Assert.Equal(1, await fixture.CountRecordsAsync(user));
    }
}
