using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// The intent calls' rate limits on the real server: a window per IP address on every intent route, the callback
/// included, whatever the token; a window per client app once the token names one; 429 with <c>Retry-After</c>.
/// </summary>
public sealed class IntentRateLimitTests : IAsyncLifetime
{
    private const string CallerIpHeader = "X-Test-Caller-Ip";
    private TestAuthority _authority = null!;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _connectionString = await TestPostgres.CreateDatabaseAsync();
    }

    public async Task DisposeAsync() => await _authority.DisposeAsync();

    /// <summary>The test server has no socket: each request's address comes from a header, set before anything else runs.</summary>
    private sealed class CallerIpFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, nextMiddleware) =>
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse(http.Request.Headers[CallerIpHeader].FirstOrDefault() ?? "192.0.2.1");
                return nextMiddleware(http);
            });
            next(app);
        };
    }

    private Task<ApiFactory> StartAsync(string environment, params (string Key, string Value)[] settings) =>
        new ApiFactory(_authority, _connectionString, settings.ToDictionary(s => s.Key, s => (string?)s.Value),
            services: services => services.AddSingleton<IStartupFilter, CallerIpFromHeader>(), environment: environment).StartedAsync();

    private async Task<HttpResponseMessage> CallAsync(ApiFactory api, string ip, string? clientApp, string path = "/v2/users/user-1/links/_search")
    {
        using var request = new HttpRequestMessage(path.StartsWith("/health") || path.StartsWith("/idps") ? HttpMethod.Get : HttpMethod.Post, path);
        request.Headers.Add(CallerIpHeader, ip);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        if (clientApp is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _authority.CreateToken("user-1", clientApp, "idp-intents"));
        }
        return await api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).SendAsync(request);
    }

    private async Task<HttpStatusCode> StatusAsync(ApiFactory api, string ip, string? clientApp, string path = "/v2/users/user-1/links/_search")
    {
        using var response = await CallAsync(api, ip, clientApp, path);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_client_app_gets_its_own_window_whatever_ip_it_calls_from()
    {
        await using var api = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "2"), ("RateLimiting:PermitsPerIp", "100"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.2", "app-1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(api, "198.51.100.3", "app-1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.1", "app-2"));
    }

    [Fact]
    public async Task An_ip_gets_its_own_window_whatever_client_app_or_none_calls_from_it_and_the_callback_counts_too()
    {
        await using var api = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "100"), ("RateLimiting:PermitsPerIp", "3"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(api, "198.51.100.1", clientApp: null));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(api, "198.51.100.1", clientApp: null, path: "/idps/callback?state=unknown"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(api, "198.51.100.1", "app-2"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(api, "198.51.100.1", clientApp: null, path: "/idps/callback?state=unknown"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.2", "app-1"));
    }

    [Fact]
    public async Task A_refused_call_gets_429_with_the_gateway_error_body_and_retry_after()
    {
        await using var api = await StartAsync("Production", ("RateLimiting:PermitsPerIp", "1"), ("RateLimiting:WindowSeconds", "30"));
        await StatusAsync(api, "198.51.100.1", "app-1");

        using var refused = await CallAsync(api, "198.51.100.1", "app-1");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(StatusCode.ResourceExhausted, (StatusCode)body.GetProperty("code").GetInt32());
        GatewayErrorShape.AssertIdOf(body);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 30);
    }

    [Fact]
    public async Task Routes_outside_the_intents_are_not_limited()
    {
        await using var api = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "1"), ("RateLimiting:PermitsPerIp", "1"));

        for (var call = 0; call < 3; call++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(api, "198.51.100.1", "app-1", path: "/health/live"));
        }
    }

    [Fact]
    public async Task Limits_are_off_in_development_unless_enabled_explicitly()
    {
        await using var off = await StartAsync("Development", ("RateLimiting:PermitsPerClientApp", "1"), ("RateLimiting:PermitsPerIp", "1"));
        await using var on = await StartAsync("Development", ("RateLimiting:PermitsPerIp", "1"), ("RateLimiting:Enabled", "true"));

        for (var call = 0; call < 3; call++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(off, "198.51.100.1", "app-1"));
        }
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(on, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(on, "198.51.100.1", "app-1"));
    }
}
