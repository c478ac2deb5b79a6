using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>SPEC §3.5: browser apps of <c>Cors:AllowedOrigins</c> call the user-data and intent management endpoints cross-origin.</summary>
public sealed class CrossOriginTests
{
    private const string Allowed = "https://app.example";
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Each kind of endpoint browsers call, by its method: user data, the REST gateway, Connect and gRPC-Web (one path).</summary>
    public static TheoryData<string, string> BrowserCalled => new()
    {
        { "POST", "/user-data/by-idp/get" },
        { "POST", "/user-data/by-user-id/set" },
        { "POST", "/user-data/by-email/list-get" },
        { "POST", "/v2/idp_intents" },
        { "POST", "/v2/idp_intents/some-intent" },
        { "POST", "/v2/users/some-user/links/_search" },
        { "DELETE", "/v2/users/some-user/links/google/123" },
        { "POST", "/zitadel.user.v2.UserService/RetrieveIdentityProviderIntent" },
    };

    private static HttpRequestMessage Preflight(string path, string method, string origin, string headers = "authorization,content-type")
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static async Task<(ApiFactory Api, TestAuthority Authority)> StartAsync(params (string Key, string? Value)[] settings)
    {
        var authority = await TestAuthority.StartAsync();
        var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(), settings.ToDictionary(s => s.Key, s => s.Value)).StartedAsync();
        return (api, authority);
    }

    [Theory]
    [MemberData(nameof(BrowserCalled))]
    public async Task A_preflight_from_an_allowed_origin_is_answered_204_naming_it_with_methods_headers_and_max_age(string method, string path)
    {
        var (api, authority) = await StartAsync(("Cors:AllowedOrigins", $"{Allowed}, http://localhost:3000"));
        await using var _ = authority;
        await using var __ = api;
        using var client = api.CreateClient();

        using var answer = await client.SendAsync(Preflight(path, method, Allowed,
            "authorization,content-type,connect-protocol-version,connect-timeout-ms,x-grpc-web,x-user-agent,grpc-timeout"));

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(Allowed, Header(answer, "Access-Control-Allow-Origin"));
        Assert.Contains(method, Header(answer, "Access-Control-Allow-Methods")!.Split(','));
        var headers = Header(answer, "Access-Control-Allow-Headers")!.Split(',').Select(h => h.ToLowerInvariant()).ToArray();
        Assert.Superset(new HashSet<string> { "authorization", "content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "x-user-agent", "grpc-timeout" }, headers.ToHashSet());
        Assert.Equal("7200", Header(answer, "Access-Control-Max-Age"));
        Assert.Null(Header(answer, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Another_origin_gets_no_cors_header_and_the_default_allows_none()
    {
        var (api, authority) = await StartAsync(("Cors:AllowedOrigins:0", Allowed));
        var (closed, closedAuthority) = await StartAsync();
        await using var _ = authority;
        await using var __ = api;
        await using var ___ = closedAuthority;
        await using var ____ = closed;
        using var client = api.CreateClient();
        using var closedClient = closed.CreateClient();

        using var other = await client.SendAsync(Preflight("/user-data/by-idp/get", "POST", "https://evil.example"));
        using var sameHostOtherScheme = await client.SendAsync(Preflight("/user-data/by-idp/get", "POST", "http://app.example"));
        using var byDefault = await closedClient.SendAsync(Preflight("/user-data/by-idp/get", "POST", Allowed));
        using var actual = new HttpRequestMessage(HttpMethod.Post, "/user-data/by-user-id/list-get") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        actual.Headers.Add("Origin", Allowed);
        using var actualByDefault = await closedClient.SendAsync(actual);

        foreach (var answer in new[] { other, sameHostOtherScheme, byDefault, actualByDefault })
        {
            Assert.DoesNotContain(answer.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        }
        Assert.Equal(HttpStatusCode.OK, actualByDefault.StatusCode);
    }

    [Fact]
    public async Task An_allowed_call_s_answer_names_the_origin_and_exposes_grpc_status_and_star_names_any_origin_back()
    {
        var (api, authority) = await StartAsync(("Cors:AllowedOrigins", "*"));
        await using var _ = authority;
        await using var __ = api;
        using var client = api.CreateClient();
        var origin = "http://127.0.0.1:4321";
        using var call = new HttpRequestMessage(HttpMethod.Post, "/user-data/by-user-id/set")
        {
            Content = new StringContent("""{"value_key":"k","value_data":"v"}""", Encoding.UTF8, "application/json"),
        };
        call.Headers.Add("Origin", origin);
        call.Headers.Authorization = new AuthenticationHeaderValue("Bearer", authority.CreateToken(UserDataFixture.NewUser()));

        using var answer = await client.SendAsync(call);
        using var preflight = await client.SendAsync(Preflight("/user-data/by-user-id/set", "POST", origin));

        Assert.Equal(0, JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetInt32());
        Assert.Equal(origin, Header(answer, "Access-Control-Allow-Origin"));
        Assert.Contains("Grpc-Status", Header(answer, "Access-Control-Expose-Headers")!.Split(','));
        Assert.Null(Header(answer, "Access-Control-Allow-Credentials"));
        Assert.Equal(origin, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Contains("Origin", Header(preflight, "Vary") ?? "");
    }

    [Fact]
    public async Task In_chromium_a_page_of_an_allowed_origin_calls_the_api_with_a_bearer_token_and_a_page_of_another_origin_is_blocked()
    {
        await using var allowedPage = await PageServer.StartAsync();
        await using var otherPage = await PageServer.StartAsync();
        await using var authority = await TestAuthority.StartAsync();
        await using var server = ServerProcess.StartBuilt(
            ("ConnectionStrings__UserData", await TestPostgres.CreateDatabaseAsync()),
            ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", authority.Issuer),
            ("Auth__RequireHttpsMetadata", "false"),
            ("Cors__AllowedOrigins", allowedPage.Origin));
        var api = (await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60))).ToString().TrimEnd('/');
        var user = UserDataFixture.NewUser();
        var token = authority.CreateToken(user);
        await using var browser = await Chromium.LaunchAsync();
        // What a browser app does: JSON calls with a bearer token (so preflighted), the result or the browser's refusal.
        var calls = $$"""
            (async () => {
              const call = async (method, path, body, headers) => {
                try {
                  const answer = await fetch('{{api}}' + path, { method, body: body && JSON.stringify(body),
                    headers: { 'Authorization': 'Bearer {{token}}', 'Content-Type': 'application/json', ...headers } });
                  return { status: answer.status, body: await answer.text() };
                } catch (error) { return { blocked: String(error) }; }
              };
              return [
                await call('POST', '/user-data/by-user-id/set', { value_key: 'from-the-browser', value_data: location.origin }),
                await call('POST', '/user-data/by-user-id/get', { request_id: 9, value_keys: ['from-the-browser'] }),
                await call('POST', '/zitadel.user.v2.UserService/RetrieveIdentityProviderIntent',
                  { idpIntentId: 'unknown', idpIntentToken: 'unknown' }, { 'Connect-Protocol-Version': '1' }),
                await call('DELETE', '/v2/users/{{user}}/links/google/123'),
              ];
            })()
            """;

        await browser.NavigateAsync(new Uri(allowedPage.Origin + "/"));
        await browser.WaitForAsync("document.readyState === 'complete' && document.title === 'browser app'", PageTimeout);
        var allowed = (await browser.EvaluateAsync(calls)).EnumerateArray().ToArray();
        await browser.NavigateAsync(new Uri(otherPage.Origin + "/"));
        await browser.WaitForAsync("document.readyState === 'complete' && document.title === 'browser app'", PageTimeout);
        var blocked = (await browser.EvaluateAsync(calls)).EnumerateArray().ToArray();

        Assert.All(allowed, answer => Assert.False(answer.TryGetProperty("blocked", out _), answer.ToString()));
        Assert.Equal(0, JsonDocument.Parse(allowed[0].GetProperty("body").GetString()!).RootElement.GetProperty("result").GetInt32());
        var get = JsonDocument.Parse(allowed[1].GetProperty("body").GetString()!).RootElement;
        Assert.Equal(allowedPage.Origin, get.GetProperty("values")[0].GetProperty("value_data").GetString());
        Assert.Equal(9, get.GetProperty("request_id").GetInt64());
        // Connect and the REST gateway answer their own errors, and the page can read them.
        Assert.Equal(403, allowed[2].GetProperty("status").GetInt32());
        Assert.Contains("permission_denied", allowed[2].GetProperty("body").GetString());
        Assert.Equal(403, allowed[3].GetProperty("status").GetInt32());
        Assert.All(blocked, answer => Assert.True(answer.TryGetProperty("blocked", out _), answer.ToString()));
        // The blocked page's set never ran: its preflight failed, so the value is still the allowed page's.
        using var http = new HttpClient { BaseAddress = new Uri(api) };
        var check = await new UserDataClient(http).PostAsync("by-user-id/get", new { value_keys = new[] { "from-the-browser" } }, token);
        Assert.Equal(allowedPage.Origin, check.GetProperty("values")[0].GetProperty("value_data").GetString());
    }

    /// <summary>A static page on its own origin (http://127.0.0.1:PORT), as a browser app is served.</summary>
    private sealed class PageServer(WebApplication app, string origin) : IAsyncDisposable
    {
        public string Origin { get; } = origin;

        public static async Task<PageServer> StartAsync()
        {
            var app = LoopbackApp.CreateBuilder().Build();
            app.MapGet("/", () => Results.Content("<!doctype html><html><head><title>browser app</title></head><body>browser app</body></html>", "text/html"));
            return new PageServer(app, await LoopbackApp.StartAsync(app));
        }

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
