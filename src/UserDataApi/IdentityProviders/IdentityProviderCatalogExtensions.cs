namespace UserDataApi.IdentityProviders;

public static class IdentityProviderCatalogExtensions
{
    public static WebApplicationBuilder AddIdentityProviderCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<IdentityProvidersOptions>(builder.Configuration.GetSection(IdentityProvidersOptions.Section));
        builder.Services.AddHttpClient(IdentityProviderCatalogLoader.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IdentityProviderCatalog>();
        builder.Services.AddSingleton<IdentityProviderCatalogLoader>();
        builder.Services.AddHostedService<IdentityProviderCatalogRefresher>();
        return builder;
    }
}
