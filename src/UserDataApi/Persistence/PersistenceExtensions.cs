using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace UserDataApi.Persistence;

public static class PersistenceExtensions
{
    public const string ConnectionStringName = "UserData";

    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName) ?? "";
        // One pool for EF Core and for the hot-path commands that skip it. Unless the connection string
        // says otherwise, often-used statements are prepared automatically, and concurrent requests'
        // commands are multiplexed onto few connections (fewer round trips and system calls under load).
        builder.Services.AddSingleton(_ =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }
            if (!connectionString.Contains("Multiplexing", StringComparison.OrdinalIgnoreCase))
            {
                dataSource.ConnectionStringBuilder.Multiplexing = true;
            }
            return dataSource.Build();
        });
        builder.Services.AddDbContextPool<UserDataDbContext>((services, options) => options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddSingleton<ServerKeys>();
        return builder;
    }

    /// <summary>
    /// Applies pending migrations when <c>Database:MigrateOnStartup</c> says so (default: only in Development).
    /// An unreachable database is retried for half a minute, as a container may start before it;
    /// returns false, after one clear log line, when the migration cannot be applied.
    /// </summary>
    public static async Task<bool> MigrateDatabaseIfConfiguredAsync(this WebApplication app)
    {
        var migrate = app.Configuration.GetValue<bool?>("Database:MigrateOnStartup") ?? app.Environment.IsDevelopment();
        if (!migrate)
        {
            return true;
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var scope = app.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
                app.Logger.LogInformation("Applying database migrations");
                await db.Database.MigrateAsync();
                return true;
            }
            catch (NpgsqlException exception) when (exception is not PostgresException && DateTime.UtcNow < deadline)
            {
                app.Logger.LogWarning("Database not reachable yet ({Reason}); retrying", exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
            {
                app.Logger.LogCritical("Database migration failed: {Reason}", exception.Message);
                return false;
            }
        }
    }
}
