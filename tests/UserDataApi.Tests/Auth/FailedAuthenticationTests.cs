using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

/// <summary>
/// Failed authentications are limited per IP address on every family: past the limit, tokens that have not passed
/// before are refused unread (-4 on user data, 429 on intents) until the window ends; tokens that passed keep working.
/// </summary>
public sealed class FailedAuthenticationTests : IAsyncLifetime
{
    private const int Limit = 5;
    private const int WindowSeconds = 6;
    private const string Scopes = "email user-data-get user-data-set idp-intents";
    private TestAuthority _authority = null!;
    private ApiFactory _api = null!;
    private UserDataClient _client = null!;

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _api = await new ApiFactory(_authority, await TestPostgres.CreateDatabaseAsync(), new Dictionary<string, string?>
        {
            ["RateLimiting:FailedAuthenticationsPerIp"] = Limit.ToString(),
            ["RateLimiting:WindowSeconds"] = WindowSeconds.ToString(),
        }).StartedAsync();
        _client = new UserDataClient(_api.CreateClient());
    }

    private Task<JsonElement> GetAsync(string? token) =>
        _client.PostAsync("get", new { request_id = 7, identity_provider = "telegram", value_keys = new[] { "k" } }, token);

    private async Task<HttpResponseMessage> ListLinksAsync(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/users/user-1/links/_search") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await _api.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task Past_the_limit_new_tokens_are_refused_unread_on_every_family_until_the_window_ends_while_known_tokens_keep_working()
    {
        var known = _authority.CreateToken("user-1", scopes: Scopes);
        Assert.Equal((int)ResultCode.SuccessNotFound, (await GetAsync(known)).Result());
        var forged = _authority.CreateToken("user-1", scopes: Scopes, signingKey: new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-key-1" });

        var failures = new List<int>();
        for (var attempt = 0; attempt < Limit; attempt++)
        {
            failures.Add((await GetAsync(attempt % 2 == 0 ? forged : null)).Result());
        }
        var fresh = _authority.CreateToken("user-1", scopes: Scopes, tweak: d => d.Claims["jti"] = Guid.NewGuid().ToString());
        var refusedGet = await GetAsync(fresh);
        using var refusedIntents = await ListLinksAsync(fresh);
        var knownStillWorks = await GetAsync(known);

        Assert.Equal(Enumerable.Repeat((int)ResultCode.TokenInvalid, Limit), failures);
        Assert.Equal((int)ResultCode.ServiceTemporarilyNotValid, refusedGet.Result());
        Assert.Equal(7, refusedGet.GetProperty("request_id").GetInt64());
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedIntents.StatusCode);
        Assert.Equal(8, JsonDocument.Parse(await refusedIntents.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        var retryAfter = int.Parse(refusedIntents.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, WindowSeconds);
        Assert.Equal((int)ResultCode.SuccessNotFound, knownStillWorks.Result());

        await Task.Delay(TimeSpan.FromSeconds(WindowSeconds + 0.5));
        Assert.Equal((int)ResultCode.SuccessNotFound, (await GetAsync(fresh)).Result());
        using var afterwards = await ListLinksAsync(fresh);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _authority.DisposeAsync();
    }
}
