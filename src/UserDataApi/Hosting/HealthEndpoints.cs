using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using UserDataApi.IdentityProviders;
using Npgsql;

namespace UserDataApi.Hosting;

/// <summary>
/// <c>/health/live</c> (the process answers) and <c>/health/ready</c> (database reachable, identity-provider
/// catalog loaded), anonymous and cheap (SPEC §6). Each answers JSON naming the state of every check it ran;
/// HTTP 503 when one is unhealthy.
/// </summary>
public static class HealthEndpoints
{
    public const string BasePath = "/health";
    private const string ReadinessTag = "ready";

    public static WebApplicationBuilder AddHealthEndpoints(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReachable>("database", tags: [ReadinessTag], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<CatalogLoaded>("identity-provider-catalog", tags: [ReadinessTag]);
        return builder;
    }

    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(BasePath + "/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteReportAsync });
        app.MapHealthChecks(BasePath + "/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadinessTag), ResponseWriter = WriteReportAsync });
        return app;
    }

    private static Task WriteReportAsync(HttpContext http, HealthReport report) =>
        http.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(entry => entry.Key, entry => entry.Value.Status.ToString()),
        });

    /// <summary>One round trip on the server's own pool (EF Core's CanConnect would open a fresh, unpooled connection per probe).</summary>
    private sealed class DatabaseReachable(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not reachable.");
            }
        }
    }

    private sealed class CatalogLoaded(IdentityProviderCatalog catalog) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(catalog.IsLoaded
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("No identity-provider catalog has loaded yet."));
    }
}
