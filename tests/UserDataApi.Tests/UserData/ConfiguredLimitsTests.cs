using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>SPEC §5: the limits and scopes of §3 follow the <c>UserData:*</c> settings, not only their defaults.</summary>
public sealed class ConfiguredLimitsTests : IAsyncLifetime
{
    private TestAuthority _authority = null!;
    private ApiFactory _api = null!;
    private UserDataClient _client = null!;

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _api = await new ApiFactory(_authority, await TestPostgres.CreateDatabaseAsync(), new Dictionary<string, string?>
        {
            ["UserData:MaxKeysPerRequest"] = "2",
            ["UserData:MaxKeyLength"] = "4",
            ["UserData:MaxValueLength"] = "3",
            ["UserData:ReadScopes"] = "profile-read",
            ["UserData:WriteScopes"] = "profile-write",
        }).StartedAsync();
        _client = new UserDataClient(_api.CreateClient());
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _authority.DisposeAsync();
    }

    private Task<System.Text.Json.JsonElement> Set(string token, string key, string value) =>
        _client.PostAsync("set", new { identity_provider = "telegram", value_key = key, value_data = value }, token);

    private Task<System.Text.Json.JsonElement> Get(string token, params string[] keys) =>
        _client.PostAsync("get", new { identity_provider = "telegram", value_keys = keys }, token);

    [Fact]
    public async Task Limits_follow_the_settings()
    {
        var token = _authority.CreateToken(UserDataFixture.NewUser(), scopes: "profile-read profile-write");

        Assert.Equal((int)ByIdpResultCode.Success, (await Set(token, "abcd", "xyz")).Result());
        Assert.Equal((int)ByIdpResultCode.KeyInvalid, (await Set(token, "abcde", "xyz")).Result());
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await Set(token, "abcd", "wxyz")).Result());
        Assert.Equal((int)ByIdpResultCode.Success, (await Get(token, "abcd", "none")).Result());
        Assert.Equal((int)ByIdpResultCode.KeysSizeLimitReached, (await Get(token, "abcd", "b", "c")).Result());
    }

    [Fact]
    public async Task Scopes_follow_the_settings()
    {
        var user = UserDataFixture.NewUser();
        var defaults = _authority.CreateToken(user, scopes: "email user-data-get user-data-set");
        var reader = _authority.CreateToken(user, scopes: "profile-read");

        Assert.Equal((int)ByIdpResultCode.AccessDenied, (await Get(defaults, "k")).Result());
        Assert.Equal((int)ByIdpResultCode.AccessDenied, (await Set(defaults, "k", "v")).Result());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await Get(reader, "k")).Result());
        Assert.Equal((int)ByIdpResultCode.AccessDenied, (await Set(reader, "k", "v")).Result());
    }
}
