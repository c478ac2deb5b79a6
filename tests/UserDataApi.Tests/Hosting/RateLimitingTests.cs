using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// The intent calls' rate limits, on a small app that has the server's token authentication and rate
/// limits and one route requiring <see cref="RateLimits.Intents"/>, as the intent routes will.
/// </summary>
public sealed class RateLimitingTests : IAsyncLifetime
{
    private const string CallerIpHeader = "X-Test-Caller-Ip";
    private TestAuthority _authority = null!;

    public async Task InitializeAsync() => _authority = await TestAuthority.StartAsync();

    public async Task DisposeAsync() => await _authority.DisposeAsync();

    private async Task<WebApplication> StartAsync(string environment, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Authority"] = _authority.Issuer,
            ["Auth:RequireHttpsMetadata"] = "false",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddTokenAuthentication();
        builder.AddRateLimits();
        var app = builder.Build();
        // The test server has no socket; the caller's address comes from a header instead.
        app.Use((http, next) =>
        {
            http.Connection.RemoteIpAddress = IPAddress.Parse(http.Request.Headers[CallerIpHeader].FirstOrDefault() ?? "192.0.2.1");
            return next(http);
        });
        app.UseRateLimits();
        app.MapGet("/intent-like", () => "ok").RequireRateLimiting(RateLimits.Intents);
        app.MapGet("/other", () => "ok");
        await app.StartAsync();
        return app;
    }

    private async Task<HttpResponseMessage> CallAsync(WebApplication app, string path, string ip, string? clientApp)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(CallerIpHeader, ip);
        if (clientApp is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _authority.CreateToken(clientApp: clientApp));
        }
        return await app.GetTestClient().SendAsync(request);
    }

    private async Task<HttpStatusCode> StatusAsync(WebApplication app, string ip, string? clientApp, string path = "/intent-like")
    {
        using var response = await CallAsync(app, path, ip, clientApp);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_client_app_gets_its_own_window_whatever_ip_it_calls_from()
    {
        await using var app = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "2"), ("RateLimiting:PermitsPerIp", "100"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.2", "app-1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(app, "198.51.100.3", "app-1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.1", "app-2"));
    }

    [Fact]
    public async Task An_ip_gets_its_own_window_whatever_client_app_or_none_calls_from_it()
    {
        await using var app = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "100"), ("RateLimiting:PermitsPerIp", "2"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.1", clientApp: null));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(app, "198.51.100.1", "app-2"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.2", "app-1"));
    }

    [Fact]
    public async Task A_refused_call_gets_429_with_the_gateway_error_body_and_retry_after()
    {
        await using var app = await StartAsync("Production", ("RateLimiting:PermitsPerIp", "1"), ("RateLimiting:WindowSeconds", "30"));
        await StatusAsync(app, "198.51.100.1", "app-1");

        using var refused = await CallAsync(app, "/intent-like", "198.51.100.1", "app-1");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(8, body.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Array, body.GetProperty("details").ValueKind);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 30);
    }

    [Fact]
    public async Task Routes_that_do_not_require_the_policy_are_not_limited()
    {
        await using var app = await StartAsync("Production", ("RateLimiting:PermitsPerClientApp", "1"), ("RateLimiting:PermitsPerIp", "1"));

        for (var call = 0; call < 3; call++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "198.51.100.1", "app-1", path: "/other"));
        }
    }

    [Fact]
    public async Task Limits_are_off_in_development_unless_enabled_explicitly()
    {
        await using var off = await StartAsync(Environments.Development, ("RateLimiting:PermitsPerClientApp", "1"), ("RateLimiting:PermitsPerIp", "1"));
        await using var on = await StartAsync(Environments.Development, ("RateLimiting:PermitsPerIp", "1"), ("RateLimiting:Enabled", "true"));

        for (var call = 0; call < 3; call++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(off, "198.51.100.1", "app-1"));
        }
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(on, "198.51.100.1", "app-1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(on, "198.51.100.1", "app-1"));
    }
}
