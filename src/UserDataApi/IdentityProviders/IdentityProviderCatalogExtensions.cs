namespace UserDataApi.IdentityProviders;

public static class IdentityProviderCatalogExtensions
{
    public static WebApplicationBuilder AddIdentityProviderCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdentityProvidersOptions>().Bind(builder.Configuration.GetSection(IdentityProvidersOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<IdentityProvidersOptions>, IdentityProvidersOptionsValidator>();
        builder.Services.AddHttpClient(IdentityProviderCatalogLoader.HttpClientName, client =>
        {
            client.Timeout = TimeSpan.FromSeconds(10);
            // A larger answer fails the load (keeping the last good copy) instead of filling memory.
            client.MaxResponseContentBufferSize = IdentityProviderCatalogLoader.MaxDocumentBytes;
        });
        builder.Services.AddSingleton<IdentityProviderCatalog>();
        builder.Services.AddSingleton<IdentityProviderCatalogLoader>();
        builder.Services.AddHostedService<IdentityProviderCatalogRefresher>();
        return builder;
    }
}
