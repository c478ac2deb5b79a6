using Npgsql;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>Holds a database's records table (or another of its tables) so that reads of it wait, until released or disposed.</summary>
public sealed class RecordsLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private RecordsLock(NpgsqlConnection connection) => _connection = connection;

    public static async Task<RecordsLock> HoldAsync(string connectionString, string table = "user_data_records")
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection);
        await command.ExecuteNonQueryAsync();
        return new RecordsLock(connection);
    }

    public async Task ReleaseAsync()
    {
        await using var command = new NpgsqlCommand("ROLLBACK", _connection);
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
