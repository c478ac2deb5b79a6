using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace UserDataApi.Persistence;

public static class PersistenceExtensions
{
    public const string ConnectionStringName = "UserData";

    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName) ?? "";
        builder.Services.AddOptions<DatabaseOptions>()
            .Configure(options =>
            {
                options.ConnectionString = connectionString;
                options.MigrateOnStartup = builder.Configuration.GetValue<bool?>($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.MigrateOnStartup)}");
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        builder.Services.AddSingleton(_ => BuildDataSource(connectionString, EnvironmentOptions));
        builder.Services.AddDbContextPool<UserDataDbContext>((services, options) => options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddSingleton<ServerKeys>();
        builder.Services.AddSingleton(_ => new StorageDeadline(StorageDeadline.Of(connectionString)));
        return builder;
    }

    /// <summary>
    /// One pool for EF Core and for the hot-path commands that skip it. Unless the connection string
    /// says otherwise, often-used statements are prepared automatically, concurrent requests' commands
    /// are multiplexed onto few connections (fewer round trips and system calls under load), and
    /// prepared statements keep one generic plan instead of being planned again on every execution.
    /// <paramref name="environmentOptions"/> is <c>PGOPTIONS</c>, which Npgsql sends when the connection
    /// string has no <c>Options</c>: when set, it is left to apply.
    /// </summary>
    public static NpgsqlDataSource BuildDataSource(string connectionString, string? environmentOptions = null)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString);
        var settings = dataSource.ConnectionStringBuilder;
        var given = KeywordsOf(connectionString);
        if (!given.Contains("maxautoprepare"))
        {
            settings.MaxAutoPrepare = 32;
        }
        if (!given.Contains("multiplexing"))
        {
            settings.Multiplexing = true;
        }
        // The command timeout is this server's storage deadline (StorageDeadline), which it enforces itself. Npgsql's
        // own enforcement cancels synchronously, on the thread pool, and with a database that hangs each cancel request
        // blocks a thread for seconds: enough of them starve the pool, and every deadline fires late.
        settings.CommandTimeout = 0;
        // A cancel request to a database that hangs is waited for this long, then its connection is closed.
        if (!given.Contains("cancellationtimeout"))
        {
            settings.CancellationTimeout = 1000;
        }
        // Every statement here looks rows up by index keys, so a generic plan is as good as a custom one;
        // PostgreSQL would otherwise plan the get's key array anew on each call, its largest cost per get.
        // A startup option, so that the session reset of a pooled connection keeps it.
        if (!given.Contains("options") && string.IsNullOrEmpty(environmentOptions))
        {
            settings.Options = "-c plan_cache_mode=force_generic_plan";
        }
        return dataSource.Build();
    }

    /// <summary>
    /// A pool of their own for the statement batchers (<see cref="StatementBatches"/>), which keep at most
    /// <paramref name="batchesInFlight"/> batches in the database at once between them: the database and settings of <see cref="BuildDataSource"/>, but not
    /// multiplexed, so that each batch is written on its own thread rather than handed to Npgsql's writer task, and with
    /// no session reset between batches, which leave no session state. Room for batches given up on at their deadline
    /// whose connections are still being cancelled.
    /// </summary>
    public static NpgsqlDataSource BuildBatchDataSource(string connectionString, string? environmentOptions, int batchesInFlight)
    {
        var connections = Math.Max(4, 2 * batchesInFlight);
        var settings = new NpgsqlConnectionStringBuilder(connectionString) { Multiplexing = false, NoResetOnClose = true, MaxPoolSize = connections };
        settings.MinPoolSize = Math.Min(settings.MinPoolSize, connections);
        return BuildDataSource(settings.ConnectionString, environmentOptions);
    }

    /// <summary>
    /// Registers <paramref name="batchers"/> (each a <see cref="StatementBatcher{TCall, TResult}"/>, one for the server) and,
    /// on the first call, the pool every batcher shares (<see cref="StatementBatches.DataSourceKey"/>): a
    /// <see cref="BuildBatchDataSource"/> pool on the server's own connection string, sized for all the batchers registered,
    /// whichever feature registered them.
    /// </summary>
    public static IServiceCollection AddStatementBatchers(this IServiceCollection services, params Type[] batchers)
    {
        var registered = services.Where(service => !service.IsKeyedService)
            .Select(service => service.ImplementationInstance).OfType<StatementBatcherTypes>().SingleOrDefault();
        if (registered is null)
        {
            registered = [];
            services.AddSingleton(registered);
            services.AddKeyedSingleton(StatementBatches.DataSourceKey, (provider, _) => BuildBatchDataSource(
                provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value.ConnectionString ?? "",
                EnvironmentOptions, registered.Count * StatementBatches.InFlight));
        }
        foreach (var batcher in batchers)
        {
            registered.Add(batcher);
            services.AddSingleton(batcher);
        }
        return services;
    }

    /// <summary>The batchers <see cref="AddStatementBatchers"/> registered, which the shared pool is sized for.</summary>
    private sealed class StatementBatcherTypes : List<Type>;

    /// <summary><c>PGOPTIONS</c>, which Npgsql sends when a connection string has no <c>Options</c>.</summary>
    private static string? EnvironmentOptions => Environment.GetEnvironmentVariable("PGOPTIONS");

    /// <summary>The keywords a connection string sets, lower-case and without spaces ("Max Auto Prepare" is "maxautoprepare").</summary>
    private static HashSet<string> KeywordsOf(string connectionString) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(keyword => keyword.Replace(" ", "").ToLowerInvariant())
            .ToHashSet();

    /// <summary>
    /// Applies pending migrations when <c>Database:MigrateOnStartup</c> says so (default: only in Development).
    /// An unreachable database is retried for half a minute, as a container may start before it; instances that start
    /// together take turns (<see cref="MigrationLock"/>). Returns false, after one clear log line, when the migration cannot be applied.
    /// </summary>
    public static async Task<bool> MigrateDatabaseIfConfiguredAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
        var migrate = options.MigrateOnStartup ?? app.Environment.IsDevelopment();
        if (!migrate)
        {
            return true;
        }

        var time = app.Services.GetRequiredService<TimeProvider>();
        var deadline = time.GetUtcNow().AddSeconds(30);
        while (true)
        {
            try
            {
                await using var scope = app.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
                await using var migrating = await MigrationLock.AcquireAsync(options.ConnectionString ?? "", app.Logger);
                app.Logger.LogInformation("Applying database migrations");
                // EF Core reads its history table before it creates it, and logs that failed read as an error: on a
                // first start on an empty database, a newcomer's first sight of the server would be a "fail:" line.
                await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript());
                await db.Database.MigrateAsync();
                return true;
            }
            catch (NpgsqlException exception) when (exception is not PostgresException && time.GetUtcNow() < deadline)
            {
                app.Logger.LogWarning("Database not reachable yet ({Reason}); retrying", exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), time);
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
            {
                app.Logger.LogCritical("Database migration failed: {Reason}", exception.Message);
                return false;
            }
        }
    }
}
