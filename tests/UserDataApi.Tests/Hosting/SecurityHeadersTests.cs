using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.Tests.UserData;

namespace UserDataApi.Tests.Hosting;

public sealed class SecurityHeadersTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private static void AssertSecurityHeaders(HttpResponseMessage response, bool cacheable = false)
    {
        var what = $"{response.RequestMessage?.RequestUri?.AbsolutePath} ({(int)response.StatusCode})";
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) && sniff.Single() == "nosniff", what);
        Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", what);
        Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer) && referrer.Single() == "no-referrer", what);
        Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp) && csp.Single() == "frame-ancestors 'none'", what);
        Assert.Equal(!cacheable, response.Headers.CacheControl?.NoStore == true);
    }

    [Theory]
    [MemberData(nameof(EndpointCases.Names), MemberType = typeof(EndpointCases))]
    public async Task Every_user_data_answer_carries_the_security_headers_and_no_store(string endpoint)
    {
        using var client = fixture.Api.CreateClient();
        using var withToken = new HttpRequestMessage(HttpMethod.Post, UserDataClient.PathOf(endpoint))
        {
            Content = JsonContent.Create(EndpointCases.Endpoints[endpoint].Body),
        };
        withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Authority.CreateToken(UserDataFixture.NewUser()));

        using var answered = await client.SendAsync(withToken);
        using var refused = await client.PostAsync(UserDataClient.PathOf(endpoint), new StringContent("not json"));

        AssertSecurityHeaders(answered);
        AssertSecurityHeaders(refused);
    }

    [Fact]
    public async Task Intent_errors_and_unknown_paths_carry_the_security_headers()
    {
        using var client = fixture.Api.CreateClient();

        using var unauthenticated = await client.PostAsync("/v2/idp_intents", new StringContent("{}"));
        using var unknown = await client.GetAsync("/no/such/path");

        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        AssertSecurityHeaders(unauthenticated);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        AssertSecurityHeaders(unknown);
    }

    [Fact]
    public async Task Answers_of_the_last_resort_error_handler_carry_the_security_headers()
    {
        await using var api = await ApiFactory.StartWithUnreachableDatabaseAsync(fixture.Authority);
        using var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Authority.CreateToken(userId: "u1", scopes: "idp-intents"));

        using var response = await client.PostAsync("/v2/users/u1/links/_search", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task Swagger_ui_still_loads_with_its_scripts_under_the_security_headers()
    {
        using var client = fixture.Api.CreateClient();

        using var page = await client.GetAsync("/swagger/index.html");
        var html = await page.Content.ReadAsStringAsync();

        page.EnsureSuccessStatusCode();
        AssertSecurityHeaders(page, cacheable: true);
        Assert.DoesNotContain("script-src", string.Join(' ', page.Headers.GetValues("Content-Security-Policy")));
        foreach (var script in new[] { "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "index.js" })
        {
            Assert.Contains(script, html);
            using var loaded = await client.GetAsync($"/swagger/{script}");
            Assert.True(loaded.IsSuccessStatusCode, script);
        }
        using var document = await client.GetAsync("/swagger/v1/swagger.json");
        document.EnsureSuccessStatusCode();
    }
}
