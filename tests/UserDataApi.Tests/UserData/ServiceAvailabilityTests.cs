using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>-4 and the identity-provider catalog's last-good-copy behaviour, each with a server of its own.</summary>
public sealed class ServiceAvailabilityTests
{
    private static readonly object TelegramGet = new { identity_provider = "telegram", value_keys = new[] { "k" } };

    private static async Task<ApiFactory> StartWithCatalogDocumentAsync(TestAuthority authority) =>
        await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["IdentityProviders:DiscoveryUrl"] = authority.CatalogUrl }).StartedAsync();

    [Fact]
    public async Task Every_endpoint_answers_minus_4_while_no_catalog_has_ever_loaded()
    {
        await using var authority = await TestAuthority.StartAsync();
        authority.Catalog = DocumentMode.Fail;
        await using var api = await StartWithCatalogDocumentAsync(authority);
        var client = new UserDataClient(api.CreateClient());

        Assert.False(api.Catalog.IsLoaded);
        foreach (var (endpoint, (body, _)) in EndpointCases.Endpoints)
        {
            // Only by-idp names a provider of the catalog; the other families do not wait for it.
            var expected = endpoint.StartsWith("by-idp/") ? ByIdpResultCode.ServiceTemporarilyNotValid : ByIdpResultCode.Success;
            Assert.Equal((int)expected, Math.Min(0, (await client.PostAsync(endpoint, body, authority.CreateToken())).Result()));
        }
    }

    [Fact]
    public async Task Get_answers_minus_4_while_the_authority_has_never_answered()
    {
        await using var authority = await TestAuthority.StartAsync();
        authority.Discovery = DocumentMode.Fail;
        await using var api = await StartWithCatalogDocumentAsync(authority);
        var client = new UserDataClient(api.CreateClient());

        var answer = await client.PostAsync("get", TelegramGet, authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, answer.Result());
    }

    [Fact]
    public async Task Every_endpoint_answers_minus_4_when_the_database_is_unreachable()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await ApiFactory.StartWithUnreachableDatabaseAsync(authority);
        var client = new UserDataClient(api.CreateClient());

        foreach (var (endpoint, (body, fields)) in EndpointCases.Endpoints)
        {
            var answer = await client.PostAsync(endpoint, body, authority.CreateToken());
            Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, answer.Result());
            Assert.All(fields, field => Assert.True(answer.TryGetProperty(field, out _)));
        }
    }

    [Fact]
    public async Task Get_answers_minus_4_when_the_database_holds_it_past_the_command_timeout()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var api = await new ApiFactory(authority, database + ";Command Timeout=1").StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        var token = authority.CreateToken();
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, token)).Result());

        await using (var locked = await RecordsLock.HoldAsync(database))
        {
            var started = DateTime.UtcNow;
            var held = await client.PostAsync("get", TelegramGet, token);

            Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, held.Result());
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));
            await locked.ReleaseAsync();
        }

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, token)).Result());
    }

    [Fact]
    public async Task Shared_list_continuation_answers_minus_4_when_the_database_is_unreachable()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await ApiFactory.StartWithUnreachableDatabaseAsync(authority);
        var client = new UserDataClient(api.CreateClient());

        var answer = await client.PostAsync("shared-list-get", new { identity_provider = "telegram", search_id = "AQIDBAUGBwgJCgsMDQ4PEBES" }, authority.CreateToken());

        Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, answer.Result());
    }

    [Fact]
    public async Task The_catalog_is_read_from_the_authority_discovery_document_by_default()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync()).StartedAsync();

        Assert.Equal(authority.IdentityProviders.Order(), api.Catalog.Names.Order());
    }

    [Theory]
    [InlineData(DocumentMode.Fail)]
    [InlineData(DocumentMode.Garbage)]
    [InlineData(DocumentMode.Unreachable)]
    public async Task A_failed_catalog_refresh_keeps_the_last_good_copy(DocumentMode failure)
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await StartWithCatalogDocumentAsync(authority);
        var client = new UserDataClient(api.CreateClient());
        var token = authority.CreateToken();
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, token)).Result());

        authority.Catalog = failure;
        var refreshed = await api.ReloadCatalogAsync();

        Assert.False(refreshed);
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", TelegramGet, token)).Result());
    }

    [Fact]
    public async Task A_catalog_refresh_picks_up_new_and_removed_providers()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await StartWithCatalogDocumentAsync(authority);
        var client = new UserDataClient(api.CreateClient());
        var token = authority.CreateToken();
        var discordGet = new { identity_provider = "discord", value_keys = new[] { "k" } };
        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, (await client.PostAsync("get", discordGet, token)).Result());

        authority.IdentityProviders.Remove("telegram");
        authority.IdentityProviders.Add("discord");
        Assert.True(await api.ReloadCatalogAsync());

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", discordGet, token)).Result());
        Assert.Equal((int)ByIdpResultCode.IdentityProviderNotFound, (await client.PostAsync("get", TelegramGet, token)).Result());
    }

    [Fact]
    public async Task A_catalog_document_over_1_MiB_is_not_read_and_the_last_good_copy_is_kept()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await StartWithCatalogDocumentAsync(authority);
        var huge = new string('x', 1024 * 1024);

        authority.IdentityProviders.Add(huge);
        var refreshed = await api.ReloadCatalogAsync();

        Assert.False(refreshed);
        Assert.DoesNotContain(huge, api.Catalog.Names);
        Assert.Contains("telegram", api.Catalog.Names);
    }

    [Fact]
    public async Task Credentials_and_query_in_the_catalog_url_never_reach_the_logs()
    {
        await using var authority = await TestAuthority.StartAsync();
        var logs = new LogCapture();
        var address = new Uri(authority.CatalogUrl);
        var withSecrets = $"{address.Scheme}://catalog-user:catalog-password@{address.Authority}{address.AbsolutePath}?access_token=catalog-token";
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["IdentityProviders:DiscoveryUrl"] = withSecrets }, logs).StartedAsync();
        authority.Catalog = DocumentMode.Fail;
        await api.ReloadCatalogAsync();

        var catalogLines = logs.Lines.Where(line => line.Category.EndsWith("IdentityProviderCatalogLoader")).ToList();
        Assert.NotEmpty(catalogLines);
        Assert.Contains(catalogLines, line => line.Message.Contains(address.Authority + address.AbsolutePath));
        Assert.All(new[] { "catalog-user", "catalog-password", "catalog-token" }, secret => Assert.DoesNotContain(secret, logs.Text));
    }
}
