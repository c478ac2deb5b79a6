using Microsoft.Extensions.Options;
using UserDataApi.Hosting;

namespace UserDataApi.Persistence;

/// <summary>The database settings: <c>ConnectionStrings:UserData</c> and the section <c>Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";
    public const string ConnectionStringKey = "ConnectionStrings:" + PersistenceExtensions.ConnectionStringName;

    public string? ConnectionString { get; set; }

    /// <summary>Unset: only in Development.</summary>
    public bool? MigrateOnStartup { get; set; }
}

internal sealed class DatabaseOptionsValidator(IHostEnvironment environment) : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) => SettingRules.Result(
    [
        string.IsNullOrWhiteSpace(options.ConnectionString) && !environment.IsDevelopment()
            ? $"{DatabaseOptions.ConnectionStringKey} is required (a PostgreSQL connection string, e.g. Host=db;Database=userdata;Username=app;Password=...)."
            : null,
    ]);
}
