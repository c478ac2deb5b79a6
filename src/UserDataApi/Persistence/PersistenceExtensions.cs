using Microsoft.EntityFrameworkCore;

namespace UserDataApi.Persistence;

public static class PersistenceExtensions
{
    public const string ConnectionStringName = "UserData";

    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        builder.Services.AddDbContextPool<UserDataDbContext>(options => options.UseNpgsql(connectionString));
        return builder;
    }

    /// <summary>Applies pending migrations when <c>Database:MigrateOnStartup</c> says so (default: only in Development).</summary>
    public static async Task MigrateDatabaseIfConfiguredAsync(this WebApplication app)
    {
        var migrate = app.Configuration.GetValue<bool?>("Database:MigrateOnStartup") ?? app.Environment.IsDevelopment();
        if (!migrate)
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
        app.Logger.LogInformation("Applying database migrations");
        await db.Database.MigrateAsync();
    }
}
