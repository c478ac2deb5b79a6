using Npgsql;
using Testcontainers.PostgreSql;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL the tests run against: the server named by USERDATA_TEST_POSTGRES (scripts/test.sh
/// starts a throwaway cluster and sets it when no Docker engine is present), else a Testcontainers one.
/// Each caller gets a database of its own.
/// </summary>
public static class TestPostgres
{
    public const string ServerVariable = "USERDATA_TEST_POSTGRES";

    private static readonly Lazy<Task<string>> AdminConnectionString = new(StartServerAsync);

    public static async Task<string> CreateDatabaseAsync()
    {
        var admin = await AdminConnectionString.Value;
        var name = "test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    private static async Task<string> StartServerAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ServerVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
        try
        {
            await container.StartAsync();
        }
        catch (Exception exception)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL for the tests: set {ServerVariable} or run scripts/test.sh (Docker: {exception.Message})", exception);
        }
        return container.GetConnectionString();
    }
}
