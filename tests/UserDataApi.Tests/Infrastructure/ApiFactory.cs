using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using UserDataApi.IdentityProviders;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The real server, started as in production (environment Production, settings of SPEC §5 only),
/// pointed at a test authority and a test database. When given a <see cref="LogCapture"/>, every log line
/// of every level goes to it too.
/// </summary>
public sealed class ApiFactory(
    TestAuthority authority,
    string connectionString,
    IReadOnlyDictionary<string, string?>? settings = null,
    LogCapture? logs = null,
    Action<IServiceCollection>? services = null,
    string environment = "Production")
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        foreach (var (key, value) in BaseSettings(authority, connectionString))
        {
            builder.UseSetting(key, value);
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
        if (logs is not null)
        {
            // A provider-specific rule outranks the category levels of appsettings.json.
            builder.ConfigureLogging(logging => logging.AddProvider(logs).AddFilter<LogCapture>(null, LogLevel.Trace));
        }
    }

    /// <summary>What every test server is given: the test authority and database, and the test key-protection certificate.</summary>
    public static Dictionary<string, string?> BaseSettings(TestAuthority authority, string connectionString) => new()
    {
        ["ConnectionStrings:UserData"] = connectionString,
        ["Auth:Authority"] = authority.Issuer,
        ["Auth:RequireHttpsMetadata"] = "false",
        ["Database:MigrateOnStartup"] = "true",
        ["DataProtection:Certificate:Path"] = TestCertificates.KeyProtection.Path,
        ["DataProtection:Certificate:Password"] = TestCertificates.KeyProtection.Password,
        // Test servers all see one (absent) client address, and many tests send bad tokens on purpose; the limit has tests of its own.
        ["RateLimiting:FailedAuthenticationsPerIp"] = "1000000",
        // Tests load the catalog themselves (IdentityProviderCatalogLoader) rather than wait for a timer.
        ["IdentityProviders:RefreshSeconds"] = "3600",
    };

    public IdentityProviderCatalog Catalog => Services.GetRequiredService<IdentityProviderCatalog>();

    public Task<bool> ReloadCatalogAsync() => Services.GetRequiredService<IdentityProviderCatalogLoader>().LoadAsync(CancellationToken.None);

    /// <summary>A connection string to a port nothing listens on (binding it needs root).</summary>
    public const string UnreachableDatabase = "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2";

    /// <summary>A started server whose database never answers, with no migration at start.</summary>

    public static Task<ApiFactory> StartWithUnreachableDatabaseAsync(TestAuthority authority) =>
        new ApiFactory(authority, UnreachableDatabase,
            new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" }).StartedAsync();

    /// <summary>Starts the server and waits for its first catalog load.</summary>
    public async Task<ApiFactory> StartedAsync()
    {
        _ = Server;
        for (var attempt = 0; attempt < 100 && !Catalog.IsLoaded; attempt++)
        {
            await Task.Delay(50);
        }
        return this;
    }
}
