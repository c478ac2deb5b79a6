using Microsoft.Extensions.Options;

namespace UserDataApi.IdentityProviders;

/// <summary>Loads the catalog at start-up and again every <c>IdentityProviders:RefreshSeconds</c>.</summary>
public sealed class IdentityProviderCatalogRefresher(
    IdentityProviderCatalogLoader loader,
    IOptions<IdentityProvidersOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Value.RefreshSeconds));
        using var timer = new PeriodicTimer(period);
        do
        {
            await loader.LoadAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
