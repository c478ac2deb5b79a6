using Npgsql;

namespace UserDataApi.Persistence;

/// <summary>
/// Lets one instance at a time migrate the database: a PostgreSQL advisory lock, held by a session of its own while the
/// migrations run. Instances started together on an empty database (replicas of one deployment) would otherwise apply the
/// same migrations side by side, and all but one would fail on what another had just made. The others wait, then find
/// nothing left to apply.
/// </summary>
public static class MigrationLock
{
    /// <summary>The advisory lock's key, a constant of this server's own ("UDAPIMIG" in ASCII).</summary>
    public const long Key = 0x5544_4150_494D_4947;

    /// <summary>What a waiting instance logs (README, <c>Database:MigrateOnStartup</c>).</summary>
    public const string WaitingMessage = "Waiting for another instance to finish migrating the database";

    /// <summary>
    /// Takes the lock, waiting as long as another instance's migrations take (they run without a command timeout too);
    /// disposing the result ends the session, which releases it.
    /// </summary>
    public static async Task<IAsyncDisposable> AcquireAsync(string connectionString, ILogger logger)
    {
        // Not pooled and not multiplexed: the lock belongs to one session, which closing the connection ends.
        var settings = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Multiplexing = false, CommandTimeout = 0 };
        var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync();
            await using var tryLock = LockCommand(connection, "SELECT pg_try_advisory_lock($1)");
            if (await tryLock.ExecuteScalarAsync() is not true)
            {
                logger.LogInformation(WaitingMessage);
                await using var waitForLock = LockCommand(connection, "SELECT pg_advisory_lock($1)");
                await waitForLock.ExecuteNonQueryAsync();
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static NpgsqlCommand LockCommand(NpgsqlConnection connection, string sql) =>
        new(sql, connection) { Parameters = { new NpgsqlParameter<long> { TypedValue = Key } } };
}
