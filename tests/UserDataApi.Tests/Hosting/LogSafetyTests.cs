using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Hosting;

/// <summary>SPEC §6: tokens, secrets and stored values never appear in the logs, at any level; request lines carry their ids.</summary>
public sealed class LogSafetyTests : IAsyncLifetime
{
    private readonly string _clientSecret = "client-secret-" + Guid.NewGuid().ToString("N");
    private readonly string _storedValue = "stored-value-" + Guid.NewGuid().ToString("N");
    private readonly LogCapture _logs = new();
    private TestAuthority _authority = null!;
    private ApiFactory _api = null!;
    private UserDataClient _client = null!;

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _api = await new ApiFactory(_authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?>
            {
                ["Intents:PublicBaseUrl"] = "https://api.example",
                ["Intents:Providers:example:Type"] = "oauth",
                ["Intents:Providers:example:ClientId"] = "userdataapi",
                ["Intents:Providers:example:ClientSecret"] = _clientSecret,
                ["Intents:Providers:example:AuthorizationEndpoint"] = "https://provider.example/authorize",
                ["Intents:Providers:example:TokenEndpoint"] = "https://provider.example/token",
                ["Intents:Providers:example:UserInfoEndpoint"] = "https://provider.example/userinfo",
            }, _logs).StartedAsync();
        _client = new UserDataClient(_api.CreateClient());
    }

    [Fact]
    public async Task Tokens_secrets_and_stored_values_never_reach_the_logs()
    {
        var token = _authority.CreateToken();
        var expired = _authority.CreateToken(expires: DateTime.UtcNow.AddHours(-1), notBefore: DateTime.UtcNow.AddHours(-2));
        var forged = _authority.CreateToken(signingKey: new RsaSecurityKey(RSA.Create(2048)) { KeyId = "unknown-key" });
        var set = new { identity_provider = "telegram", value_key = "secret-key", value_data = _storedValue, access_scope = 0 };
        var get = new { identity_provider = "telegram", value_keys = new[] { "secret-key" } };

        Assert.Equal((int)ByIdpResultCode.Success, (await _client.PostAsync("set", set, token)).Result());
        Assert.Contains(_storedValue, (await _client.PostAsync("get", get, token)).GetRawText());
        Assert.Equal((int)ByIdpResultCode.TokenExpired, (await _client.PostAsync("set", set, expired)).Result());
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await _client.PostAsync("get", get, forged)).Result());
        var broken = $$"""{"identity_provider":"telegram","value_key":"k","value_data":"{{_storedValue}}",""";
        Assert.Equal((int)ByIdpResultCode.InvalidParameters, (await _client.PostRawAsync("set", broken, token)).Result());

        var logged = _logs.Text;
        Assert.Contains("/user-data/by-idp/set", logged);
        Assert.Contains("Bearer", logged);
        foreach (var jwt in new[] { token, expired, forged })
        {
            Assert.DoesNotContain(jwt, logged);
            Assert.DoesNotContain(jwt.Split('.')[2], logged);
        }
        Assert.DoesNotContain(_clientSecret, logged);
        Assert.DoesNotContain(_storedValue, logged);
    }

    [Fact]
    public async Task Every_line_logged_for_a_request_carries_its_request_id_and_trace_id()
    {
        var before = _logs.Lines.Count;
        await _client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, _authority.CreateToken());

        // Every line of the call, not only those that already carry the request's scope.
        var requestLines = _logs.Lines.Skip(before).ToList();
        Assert.Contains(requestLines, line => line.Message.Contains("/user-data/by-idp/get"));
        Assert.All(requestLines, line =>
        {
            Assert.False(string.IsNullOrEmpty(line.Properties.GetValueOrDefault("RequestId")), line.ToString());
            Assert.False(string.IsNullOrEmpty(line.Properties.GetValueOrDefault("TraceId")), line.ToString());
        });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _authority.DisposeAsync();
    }
}
