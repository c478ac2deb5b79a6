using UserDataApi.Auth;
using UserDataApi.IdentityProviders;
using UserDataApi.Intents;
using UserDataApi.Persistence;
using UserDataApi.UserData;

namespace UserDataApi.Hosting;

/// <summary>Checks the settings of SPEC §5 before anything starts, so that a bad one stops start-up with one clear line.</summary>
public static class StartupSettings
{
    /// <summary>The first problem found, naming the setting, or null when the settings can run.</summary>
    public static string? FindError(IConfiguration configuration, IHostEnvironment environment)
    {
        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(PersistenceExtensions.ConnectionStringName)) && !environment.IsDevelopment())
        {
            return "ConnectionStrings:UserData is required (a PostgreSQL connection string, e.g. Host=db;Database=userdata;Username=app;Password=...).";
        }

        // (A value that is not a boolean is named by its own check below.)
        var httpsRequired = bool.TryParse(configuration[$"{AuthOptions.Section}:RequireHttpsMetadata"], out var requireHttps) ? requireHttps : !environment.IsDevelopment();
        return CheckUrl(configuration, $"{AuthOptions.Section}:Authority", required: false)
               ?? CheckUrl(configuration, $"{IdentityProvidersOptions.Section}:DiscoveryUrl", required: false)
               ?? CheckHttps(configuration, $"{AuthOptions.Section}:Authority", httpsRequired)
               ?? CheckHttps(configuration, $"{IdentityProvidersOptions.Section}:DiscoveryUrl", httpsRequired)
               ?? CheckInteger(configuration, $"{AuthOptions.Section}:ClockSkewSeconds", minimum: 0)
               ?? CheckInteger(configuration, $"{AuthOptions.Section}:KeyRefreshSeconds", minimum: 1)
               ?? CheckInteger(configuration, $"{IdentityProvidersOptions.Section}:RefreshSeconds", minimum: 1)
               ?? CheckInteger(configuration, $"{UserDataOptions.Section}:MaxKeysPerRequest", minimum: 1)
               ?? CheckInteger(configuration, $"{UserDataOptions.Section}:MaxKeyLength", minimum: 1)
               ?? CheckInteger(configuration, $"{UserDataOptions.Section}:MaxValueLength", minimum: 1)
               ?? CheckInteger(configuration, $"{RateLimitingOptions.Section}:WindowSeconds", minimum: 1)
               ?? CheckInteger(configuration, $"{RateLimitingOptions.Section}:PermitsPerClientApp", minimum: 1)
               ?? CheckInteger(configuration, $"{RateLimitingOptions.Section}:PermitsPerIp", minimum: 1)
               ?? CheckInteger(configuration, $"{FailedAuthenticationOptions.Section}:FailedAuthenticationsPerIp", minimum: 1)
               ?? CheckBoolean(configuration, "Database:MigrateOnStartup")
               ?? CheckBoolean(configuration, $"{AuthOptions.Section}:RequireHttpsMetadata")
               ?? CheckBoolean(configuration, $"{RateLimitingOptions.Section}:Enabled")
               ?? CheckBoolean(configuration, "Swagger:Enabled")
               ?? CheckUrl(configuration, $"{IntentsOptions.Section}:PublicBaseUrl", required: false)
               ?? CheckInteger(configuration, $"{IntentsOptions.Section}:LifetimeSeconds", minimum: 1)
               ?? CheckInteger(configuration, $"{IntentsOptions.Section}:SweepSeconds", minimum: 1, maximum: 86_400)
               ?? CheckNotBlank(configuration, $"{IntentsOptions.Section}:Scope")
               ?? CheckNotBlank(configuration, $"{IntentsOptions.Section}:AdminScope")
               ?? CheckAdminScope(configuration)
               ?? configuration.GetSection($"{IntentsOptions.Section}:Providers").GetChildren().Select(CheckProvider).FirstOrDefault(e => e is not null)
               ?? CheckPublicBaseUrl(configuration, environment)
               ?? CheckKeyProtection(configuration, environment);
    }

    /// <summary>
    /// Providers send the browser back to <c>{Intents:PublicBaseUrl}/idps/callback</c>. Without the setting the
    /// address would follow the request's Host header, which whoever sends the request chooses.
    /// </summary>
    private static string? CheckPublicBaseUrl(IConfiguration configuration, IHostEnvironment environment)
    {
        var redirectFlows = configuration.GetSection($"{IntentsOptions.Section}:Providers").GetChildren()
            .Any(provider => provider["Type"] is null
                             || string.Equals(provider["Type"], ProviderOptions.OidcType, StringComparison.OrdinalIgnoreCase)
                             || string.Equals(provider["Type"], ProviderOptions.OAuthType, StringComparison.OrdinalIgnoreCase));
        return redirectFlows && !environment.IsDevelopment() && string.IsNullOrWhiteSpace(configuration[$"{IntentsOptions.Section}:PublicBaseUrl"])
            ? $"{IntentsOptions.Section}:PublicBaseUrl is required when an oidc or oauth provider is configured: providers redirect to {{PublicBaseUrl}}/idps/callback."
            : null;
    }

    /// <summary>
    /// Outside Development, sealing provider tokens needs a certificate that protects the Data Protection keys:
    /// without one the keys would lie in clear in the database, beside what they seal.
    /// </summary>
    private static string? CheckKeyProtection(IConfiguration configuration, IHostEnvironment environment)
    {
        var section = configuration.GetSection(KeyRingOptions.Section);
        var certificates = section.GetSection("PreviousCertificates").GetChildren().Prepend(section.GetSection("Certificate"));
        foreach (var certificate in certificates.Where(c => !string.IsNullOrWhiteSpace(c["Path"])))
        {
            try
            {
                certificate.Get<CertificateFile>()!.Load().Dispose();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or InvalidOperationException)
            {
                return $"{certificate.Path}:Path: no certificate with an RSA private key can be read from '{certificate["Path"]}' ({exception.Message}).";
            }
        }
        var intentsUsed = configuration.GetSection($"{IntentsOptions.Section}:Providers").GetChildren().Any();
        return intentsUsed && !environment.IsDevelopment() && string.IsNullOrWhiteSpace(section["Certificate:Path"])
            ? $"{KeyRingOptions.Section}:Certificate:Path is required when Intents:Providers are configured: the certificate protects the keys that seal provider tokens."
            : null;
    }

    private static string? CheckProvider(IConfigurationSection provider)
    {
        var key = provider.Path;
        var type = provider["Type"] ?? ProviderOptions.OidcType;
        if (string.IsNullOrWhiteSpace(provider["ClientId"]))
        {
            return $"{key}:ClientId is required.";
        }
        if (CheckInteger(provider, "TimeoutSeconds", minimum: 1) is { } timeoutError)
        {
            return $"{key}:{timeoutError}";
        }
        if (string.Equals(type, ProviderOptions.OidcType, StringComparison.OrdinalIgnoreCase))
        {
            var error = CheckUrl(provider, "Issuer", required: true) ?? CheckBoolean(provider, "RequireHttpsMetadata");
            return error is null ? null : $"{key}:{error}";
        }
        if (string.Equals(type, ProviderOptions.OAuthType, StringComparison.OrdinalIgnoreCase))
        {
            return new[] { "AuthorizationEndpoint", "TokenEndpoint", "UserInfoEndpoint" }
                .Select(endpoint => CheckUrl(provider, endpoint, required: true))
                .FirstOrDefault(e => e is not null) is { } error ? $"{key}:{error}" : null;
        }
        return $"{key}:Type must be '{ProviderOptions.OidcType}' or '{ProviderOptions.OAuthType}', not '{type}'.";
    }

    private static string? CheckUrl(IConfiguration configuration, string key, bool required)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return required ? $"{key} is required." : null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? null
            : $"{key} must be an absolute http(s) URL, not '{value}'.";
    }

    /// <summary>Keys and the catalog come over https unless <c>Auth:RequireHttpsMetadata</c> is false (in Development it is by default).</summary>
    private static string? CheckHttps(IConfiguration configuration, string key, bool required)
    {
        var value = configuration[key];
        return !required || string.IsNullOrWhiteSpace(value) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{key} must be an https URL unless {AuthOptions.Section}:RequireHttpsMetadata is false.";
    }

    private static string? CheckInteger(IConfiguration configuration, string key, int minimum, int maximum = int.MaxValue)
    {
        var value = configuration[key];
        return value is null || (int.TryParse(value, out var number) && number >= minimum && number <= maximum)
            ? null
            : maximum == int.MaxValue
                ? $"{key} must be a whole number of at least {minimum}, not '{value}'."
                : $"{key} must be a whole number from {minimum} to {maximum}, not '{value}'.";
    }

    /// <summary>An admin scope that every intents token already has would make every caller an administrator of every user's links.</summary>
    private static string? CheckAdminScope(IConfiguration configuration)
    {
        var defaults = new IntentsOptions();
        var required = Auth.ScopeSet.Parse(configuration[$"{IntentsOptions.Section}:Scope"] ?? defaults.Scope);
        var admin = Auth.ScopeSet.Parse(configuration[$"{IntentsOptions.Section}:AdminScope"] ?? defaults.AdminScope);
        return required.Covers(admin)
            ? $"{IntentsOptions.Section}:AdminScope must name a scope that {IntentsOptions.Section}:Scope does not already require, not '{admin}'."
            : null;
    }

    /// <summary>A setting that may be left out (its default applies) but not set to nothing.</summary>
    private static string? CheckNotBlank(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return value is null || !string.IsNullOrWhiteSpace(value) ? null : $"{key} must not be empty.";
    }

    private static string? CheckBoolean(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return value is null || bool.TryParse(value, out _) ? null : $"{key} must be true or false, not '{value}'.";
    }
}
