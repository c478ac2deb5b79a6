using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

/// <summary>
/// Forged tokens are limited per IP address on every family: past the limit, tokens that have not passed before are
/// refused unread (-4 on user data, 429 on intents) until the window ends; tokens that passed keep working, and
/// expired or missing tokens, which any client sends now and then, do not count.
/// </summary>
public sealed class FailedAuthenticationTests : IAsyncLifetime
{
    private const int Limit = 5;
    private const string Scopes = "email user-data-get user-data-set idp-intents";
    private TestAuthority _authority = null!;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _connectionString = await TestPostgres.CreateDatabaseAsync();
    }

    private Task<ApiFactory> StartAsync(int windowSeconds) =>
        new ApiFactory(_authority, _connectionString, new Dictionary<string, string?>
        {
            ["RateLimiting:FailedAuthenticationsPerIp"] = Limit.ToString(),
            ["RateLimiting:WindowSeconds"] = windowSeconds.ToString(),
        }).StartedAsync();

    private string Forged() => _authority.CreateToken("user-1", scopes: Scopes, signingKey: new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-key-1" });

    private string Fresh() => _authority.CreateToken("user-1", scopes: Scopes, tweak: d => d.Claims["jti"] = Guid.NewGuid().ToString());

    private static Task<JsonElement> GetAsync(ApiFactory api, string? token) =>
        new UserDataClient(api.CreateClient()).PostAsync("get", new { request_id = 7, identity_provider = "telegram", value_keys = new[] { "k" } }, token);

    private static async Task<HttpResponseMessage> ListLinksAsync(ApiFactory api, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/users/user-1/links/_search") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await api.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task Past_the_limit_new_tokens_are_refused_unread_on_every_family_while_known_tokens_keep_working()
    {
        await using var api = await StartAsync(windowSeconds: 600);
        var known = Fresh();
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await GetAsync(api, known)).Result());

        var forged = new List<int>();
        for (var attempt = 0; attempt < Limit; attempt++)
        {
            forged.Add((await GetAsync(api, Forged())).Result());
        }
        var fresh = Fresh();
        var refusedGet = await GetAsync(api, fresh);
        using var refusedIntents = await ListLinksAsync(api, fresh);
        var noToken = await GetAsync(api, null);

        Assert.Equal(Enumerable.Repeat((int)ByIdpResultCode.TokenInvalid, Limit), forged);
        Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, refusedGet.Result());
        Assert.Equal(7, refusedGet.GetProperty("request_id").GetInt64());
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedIntents.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, (StatusCode)JsonDocument.Parse(await refusedIntents.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        Assert.InRange(int.Parse(refusedIntents.Headers.GetValues("Retry-After").Single()), 1, 600);
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await GetAsync(api, known)).Result());
        Assert.Equal((int)ByIdpResultCode.TokenInvalid, noToken.Result());
    }

    [Fact]
    public async Task Expired_and_missing_tokens_do_not_count()
    {
        await using var api = await StartAsync(windowSeconds: 600);

        for (var attempt = 0; attempt < 3 * Limit; attempt++)
        {
            var expired = _authority.CreateToken("user-1", scopes: Scopes, notBefore: DateTime.UtcNow.AddHours(-1), expires: DateTime.UtcNow.AddMinutes(-5 - attempt));
            Assert.Equal((int)ByIdpResultCode.TokenExpired, (await GetAsync(api, expired)).Result());
            Assert.Equal((int)ByIdpResultCode.TokenInvalid, (await GetAsync(api, null)).Result());
        }

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await GetAsync(api, Fresh())).Result());
    }

    [Fact]
    public async Task When_the_window_ends_the_address_may_try_again()
    {
        const int window = 3;
        await using var api = await StartAsync(window);
        for (var attempt = 0; attempt < Limit; attempt++)
        {
            await GetAsync(api, Forged());
        }
        Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, (await GetAsync(api, Fresh())).Result());

        var deadline = DateTime.UtcNow.AddSeconds(window * 4);
        var answer = -4;
        while (answer == -4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            answer = (await GetAsync(api, Fresh())).Result();
        }

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer);
    }

    public async Task DisposeAsync() => await _authority.DisposeAsync();
}
