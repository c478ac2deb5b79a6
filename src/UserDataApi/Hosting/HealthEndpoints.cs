using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using UserDataApi.IdentityProviders;
using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.Hosting;

/// <summary>
/// <c>/health/live</c> (the process answers) and <c>/health/ready</c> (database reachable, identity-provider
/// catalog loaded), anonymous and cheap (SPEC §6). Each answers JSON naming the state of every check it ran;
/// HTTP 503 when one is unhealthy.
/// </summary>
public static class HealthEndpoints
{
    public const string BasePath = "/health";
    public const string ReadinessTag = "ready";

    public static WebApplicationBuilder AddHealthEndpoints(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReachable>("database", tags: [ReadinessTag])
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

    /// <summary>
    /// One round trip on the server's own pool (EF Core's CanConnect would open a fresh, unpooled connection per probe),
    /// within the storage deadline, as every request's storage work.
    /// </summary>
    private sealed class DatabaseReachable(NpgsqlDataSource dataSource, StorageDeadline deadline, IHttpContextAccessor http) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await deadline.RunAsync(http.HttpContext!, async storage =>
                {
                    await using var command = dataSource.CreateCommand("SELECT 1");
                    return await command.ExecuteScalarAsync(storage);
                });
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
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
