using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// Group commit for deletes: concurrent deletes go to the database as one batch of statements in one transaction and one
/// round trip, so that they share one WAL flush (see <see cref="StatementBatcher{TCall, TResult}"/>); each keeps its own statement and its own
/// rule (by-idp's all or nothing, the others' own keys only).
/// </summary>
/// <remarks>
/// A delete is answered only once its batch has committed. Two deletes of one filing never share a batch, and each locks its
/// rows in key order, so that a batch locks rows in the order a set batch does (no deadlock). A batch the database refuses
/// is sent again one delete at a time, so that a delete that fails fails no other.
/// </remarks>
public sealed class DeleteBatcher : StatementBatcher<DeleteBatcher.Deletion, DeleteOutcome>
{
    /// <summary>Deletes per batch.</summary>
    internal const int MaxDeletesPerBatch = 64;

    // by-idp: lock the listed rows, and delete them only if none is another client app's; then how many were listed, how
    // many of them are another's, and whether it was in time ($6, the storage deadline: see SetBatcher.BatchSql).
    internal const string AllOrNothingSql = """
        WITH listed AS (
            SELECT r.id, r.client_app_id FROM unnest($5::text[]) AS k(value_key)
             CROSS JOIN LATERAL (
                SELECT id, client_app_id FROM user_data_records
                 WHERE user_id = $1 AND family = $2 AND identity_provider = $3 AND value_key = k.value_key
                 LIMIT 1 FOR UPDATE) AS r),
        in_time AS (SELECT clock_timestamp() < $6 AS ok),
        foreign_keys AS (SELECT 1 FROM listed WHERE client_app_id <> $4),
        removed AS (
            DELETE FROM user_data_records r USING listed
             WHERE r.id = listed.id AND NOT EXISTS (SELECT 1 FROM foreign_keys) AND (SELECT ok FROM in_time)
            RETURNING 1)
        SELECT (SELECT count(*) FROM listed)::int, (SELECT count(*) FROM foreign_keys)::int, (SELECT ok FROM in_time)
        """;

    // by-user-id and by-email: the caller's own listed keys, removed; a NULL row when it was late.
    internal const string OwnKeysSql = """
        WITH in_time AS (SELECT clock_timestamp() < $6 AS ok),
        removed AS (
            DELETE FROM user_data_records
             WHERE user_id = $1 AND family = $2 AND identity_provider = $3 AND client_app_id = $4
               AND value_key = ANY($5::text[]) AND (SELECT ok FROM in_time)
            RETURNING value_key)
        SELECT value_key FROM removed
        UNION ALL SELECT NULL FROM in_time WHERE NOT ok
        """;

    public DeleteBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal DeleteBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedDeletes = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueuedDeletes, MaxDeletesPerBatch, timeout)
    {
    }

    /// <summary>
    /// Removes <paramref name="keys"/> of <paramref name="filing"/>: all of them or none (<paramref name="allOrNothing"/>),
    /// else those <paramref name="clientAppId"/> owns; only until <paramref name="writableUntil"/> (UTC; the storage deadline
    /// from now unless given), past which it throws <see cref="StorageTimeoutException"/>.
    /// </summary>
    public Task<DeleteOutcome> DeleteAsync(
        Filing filing, IReadOnlyList<string> keys, string clientAppId, bool allOrNothing, CancellationToken cancellationToken, DateTime? writableUntil = null) =>
        EnqueueAsync(new Deletion(
            filing, DeletionOrder(keys), clientAppId, allOrNothing, writableUntil ?? WritableFromNow(), cancellationToken, DeadlineFromNow()));

    protected override bool Conflicts(List<Deletion> batch, Deletion next) => batch.Exists(deletion => deletion.Filing == next.Filing);

    protected override Task ExecuteAsync(List<Deletion> batch, int weight, CancellationToken cancellationToken) =>
        SendOrEachAloneAsync(batch, DeleteAsync, cancellationToken);

    private async Task DeleteAsync(List<Deletion> batch, CancellationToken cancellationToken)
    {
        // In the order of their filings, so that the batch's locks come in the order a set batch takes them.
        var ordered = batch.Order(Deletion.ByFiling).ToList();
        var outcomes = new DeleteOutcome?[ordered.Count];
        // One round trip and one transaction: the statements of one batch, up to its single Sync, are one implicit
        // transaction, committed once the last has run (and rolled back whole when one fails), before the reader's end.
        await using (var statements = DataSource.CreateBatch())
        {
            foreach (var deletion in ordered)
            {
                var statement = new NpgsqlBatchCommand(deletion.AllOrNothing ? AllOrNothingSql : OwnKeysSql);
                statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deletion.Filing.UserId });
                statement.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)deletion.Filing.Family });
                statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deletion.Filing.IdentityProvider });
                statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deletion.ClientAppId });
                statement.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = deletion.Keys });
                statement.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = deletion.WritableUntil });
                statements.BatchCommands.Add(statement);
            }
            await using var reader = await statements.ExecuteReaderAsync(cancellationToken);
            for (var i = 0; i < ordered.Count; i++)
            {
                if (i > 0)
                {
                    await reader.NextResultAsync(cancellationToken);
                }
                outcomes[i] = ordered[i].AllOrNothing ? await AllOrNothingOutcomeAsync(reader, cancellationToken) : await OwnKeysOutcomeAsync(reader, cancellationToken);
            }
        }
        // Committed: only now is any of them answered.
        for (var i = 0; i < ordered.Count; i++)
        {
            if (outcomes[i] is { } outcome)
            {
                ordered[i].Done.TrySetResult(outcome);
            }
            else
            {
                // Late (the database's clock ahead of this server's): nothing was removed, and saying so would mislead.
                ordered[i].Done.TrySetException(new StorageTimeoutException(StorageTimeout));
            }
        }
    }

    private static async Task<DeleteOutcome?> AllOrNothingOutcomeAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        await reader.ReadAsync(cancellationToken);
        return reader.GetBoolean(2) ? new DeleteOutcome(reader.GetInt32(0), reader.GetInt32(1), new HashSet<string>()) : null;
    }

    private static async Task<DeleteOutcome?> OwnKeysOutcomeAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var removed = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A NULL row: late, nothing removed.
            if (reader.IsDBNull(0))
            {
                return null;
            }
            removed.Add(reader.GetString(0));
        }
        return new DeleteOutcome(removed.Count, 0, removed);
    }

    /// <summary>Distinct, in one order for every caller, so that two deletes of the same keys lock their rows alike (no deadlock).</summary>
    private static string[] DeletionOrder(IReadOnlyList<string> keys) => keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>One delete waiting for its batch.</summary>
    public sealed record Deletion(
        Filing Filing, string[] Keys, string ClientAppId, bool AllOrNothing, DateTime WritableUntil, CancellationToken GaveUp, long Deadline)
        : BatchedCall<DeleteOutcome>(GaveUp, Deadline, 1)
    {
        public static readonly IComparer<Deletion> ByFiling = Comparer<Deletion>.Create((a, b) =>
        {
            var byUser = string.CompareOrdinal(a.Filing.UserId, b.Filing.UserId);
            return byUser != 0 ? byUser : a.Filing.Family != b.Filing.Family ? a.Filing.Family.CompareTo(b.Filing.Family)
                : string.CompareOrdinal(a.Filing.IdentityProvider, b.Filing.IdentityProvider);
        });
    }
}

/// <summary>What a delete did: by-idp, how many listed keys existed and how many of them are another's; the others, the keys removed.</summary>
public sealed record DeleteOutcome(int Listed, int Foreign, IReadOnlySet<string> Removed);
