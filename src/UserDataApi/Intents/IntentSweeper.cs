using Microsoft.Extensions.Options;
using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// Removes expired intents, with everything they hold (sealed provider tokens and verifiers, the provider's
/// claims, user names), every <c>Intents:SweepSeconds</c>, and the key earlier versions sealed with once nothing
/// it sealed is left. Each instance sweeps; rows another instance is
/// deleting at that moment are skipped, so that sweepers never wait on, or deadlock with, each other.
/// </summary>
public sealed class IntentSweeper(
    NpgsqlDataSource dataSource, StorageDeadline deadline, IOptions<IntentsOptions> options, TimeProvider time, ILogger<IntentSweeper> logger)
    : BackgroundService
{
    /// <summary>Rows per statement: each statement holds its row locks only briefly.</summary>
    internal const int BatchSize = 1000;

    // The key earlier versions sealed with lies beside what it sealed: it goes as soon as nothing it sealed is left.
    private const string LegacyKeySql = """
        DELETE FROM server_keys WHERE name = $1 AND NOT EXISTS (
            SELECT 1 FROM idp_intents
             WHERE substring(protected_verifier FROM 1 FOR 4) <> $2
                OR substring(protected_access_token FROM 1 FOR 4) <> $2
                OR substring(protected_id_token FROM 1 FOR 4) <> $2)
        """;

    private const string SweepSql = """
        DELETE FROM idp_intents WHERE id IN (
            SELECT id FROM idp_intents WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepSeconds), time);
        do
        {
            await SweepAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Removes every intent expired by now; returns how many.</summary>
    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        try
        {
            int batch;
            do
            {
                await using var command = dataSource.CreateCommand(SweepSql);
                // Npgsql's own timeout, the storage deadline: no caller waits here, and a database that hangs must not end the sweeps.
                command.CommandTimeout = deadline.Seconds;
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
                batch = await command.ExecuteNonQueryAsync(cancellationToken);
                removed += batch;
            }
            while (batch == BatchSize);

            await using var legacyKey = dataSource.CreateCommand(LegacyKeySql);
            legacyKey.CommandTimeout = deadline.Seconds;
            legacyKey.Parameters.Add(new NpgsqlParameter<string> { TypedValue = IntentSecrets.LegacyKeyName });
            legacyKey.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = IntentSecrets.DataProtectionHeader.ToArray() });
            if (await legacyKey.ExecuteNonQueryAsync(cancellationToken) > 0)
            {
                logger.LogInformation("No intent sealed by an earlier version is left; the key it was sealed with is deleted");
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The database may be away for a while; the next sweep takes up what this one left. Whatever it was,
            // it must not end the sweeps (an exception leaving a background service stops the host).
            logger.LogWarning("Sweeping expired intents failed ({Exception}: {Reason}); retrying in {Seconds} s",
                exception.GetType().Name, exception.Message, options.Value.SweepSeconds);
        }
        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} expired intents", removed);
        }
        return removed;
    }
}
