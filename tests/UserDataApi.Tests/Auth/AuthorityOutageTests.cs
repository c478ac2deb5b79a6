using System.Diagnostics;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

/// <summary>SPEC §2 when the authority is away: known keys keep working, a rotated key is picked up once it is back.</summary>
public sealed class AuthorityOutageTests
{
    private static readonly object TelegramGet = new { identity_provider = "telegram", value_keys = new[] { "k" } };

    private static async Task<(TestAuthority Authority, ApiFactory Api, UserDataClient Client)> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var authority = await TestAuthority.StartAsync();
        var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(), settings).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, authority.CreateToken())).Result());
        return (authority, api, client);
    }

    [Theory]
    [InlineData(DocumentMode.Unreachable)]
    [InlineData(DocumentMode.Fail)]
    [InlineData(DocumentMode.Garbage)]
    public async Task Tokens_signed_with_known_keys_keep_validating_while_the_authority_is_away(DocumentMode away)
    {
        var (authority, api, client) = await StartAsync();
        await using var _ = authority;
        await using var __ = api;

        authority.Discovery = authority.KeySet = away;
        var unknownKey = authority.CreateToken(signingKey: new Microsoft.IdentityModel.Tokens.RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "unknown" });
        var refused = await client.PostAsync("get", TelegramGet, unknownKey);

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, refused.Result());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, authority.CreateToken())).Result());
        Assert.Equal((int)ByIdpResultCode.Success, (await client.PostAsync("set", new { identity_provider = "telegram", value_key = "k", value_data = "v" }, authority.CreateToken())).Result());
    }

    [Fact]
    public async Task A_rotated_signing_key_is_picked_up_once_the_authority_is_back()
    {
        var (authority, api, client) = await StartAsync(new Dictionary<string, string?> { ["Auth:KeyRefreshSeconds"] = "1" });
        await using var _ = authority;
        await using var __ = api;
        var before = authority.CreateToken();

        authority.Discovery = authority.KeySet = DocumentMode.Unreachable;
        authority.RotateSigningKey();
        var rotated = authority.CreateToken();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await client.PostAsync("get", TelegramGet, rotated)).Result());
            await Task.Delay(300);
        }
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, before)).Result());

        authority.Discovery = authority.KeySet = DocumentMode.Serve;
        var clock = Stopwatch.StartNew();
        var result = (int)ByIdpResultCode.TokenInvalid;
        while (result == (int)ByIdpResultCode.TokenInvalid && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
            result = (await client.PostAsync("get", TelegramGet, rotated)).Result();
        }

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, result);
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, before)).Result());
    }
}
