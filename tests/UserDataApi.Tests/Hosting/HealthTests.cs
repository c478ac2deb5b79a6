using System.Net;
using System.Text.Json;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>SPEC §6: /health/live and /health/ready, anonymous, naming what is not ready.</summary>
public sealed class HealthTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private static async Task<(HttpStatusCode Status, JsonElement Report)> GetAsync(ApiFactory api, string path)
    {
        using var response = await api.CreateClient().GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Live_answers_200_without_a_token()
    {
        var (status, report) = await GetAsync(fixture.Api, "/health/live");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_answers_200_without_a_token_when_the_database_answers_and_the_catalog_is_loaded()
    {
        var (status, report) = await GetAsync(fixture.Api, "/health/ready");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("identity-provider-catalog").GetString());
    }

    [Fact]
    public async Task Ready_answers_503_naming_the_database_while_it_is_unreachable_and_live_stays_200()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await ApiFactory.StartWithUnreachableDatabaseAsync(authority);

        var (readyStatus, report) = await GetAsync(api, "/health/ready");
        var (liveStatus, _) = await GetAsync(api, "/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("identity-provider-catalog").GetString());
        Assert.Equal(HttpStatusCode.OK, liveStatus);
    }

    [Fact]
    public async Task Ready_answers_503_naming_the_catalog_until_one_has_loaded()
    {
        await using var authority = await TestAuthority.StartAsync();
        authority.Catalog = DocumentMode.Fail;
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["IdentityProviders:DiscoveryUrl"] = authority.CatalogUrl }).StartedAsync();

        var (before, report) = await GetAsync(api, "/health/ready");
        authority.Catalog = DocumentMode.Serve;
        await api.ReloadCatalogAsync();
        var (after, _) = await GetAsync(api, "/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before);
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("identity-provider-catalog").GetString());
        Assert.Equal(HttpStatusCode.OK, after);
    }
}
