using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// Group commit: concurrent sets go to the database as one statement, one transaction and one WAL flush per batch
/// (see <see cref="StatementBatcher{TCall, TResult}"/>), where each would otherwise wait for a flush of its own.
/// </summary>
/// <remarks>
/// A set is answered only once its batch has committed, so "stored" always means durable as far as PostgreSQL's
/// settings make any commit durable. Two sets of one record never share a batch: the later waits for the next, so they
/// land in the order they arrived. A batch that the database refuses is sent again one set at a time, so that a set
/// that fails fails no other. The rows are written in key order, as every delete locks them, so that no two writers
/// deadlock.
/// </remarks>
public sealed class SetBatcher : StatementBatcher<SetBatcher.Write, SetOutcome>
{
    /// <summary>What one batch may carry: sets weigh 1, plus 1 per <see cref="CharactersPerWeight"/> of value.</summary>
    internal const int MaxWeightPerBatch = 256;

    internal const int CharactersPerWeight = 4096;

    // The conflict branch only updates a row the caller's client app owns, so nothing is written exactly when the key
    // belongs to another client app. A row is written only while its caller still waits (writable_until, the storage
    // deadline): a set sent to a database that hung, and given up on with -4, must not land when the database wakes up.
    // One row per set answers whether it was in time (false only with the database's clock ahead of this server's by
    // about the deadline: answered -4 too, never -7) and whether it was written.
    internal const string BatchSql = """
        WITH asked AS MATERIALIZED (
            SELECT q.*, clock_timestamp() < q.writable_until AS in_time
              FROM unnest($1::int[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::text[], $9::timestamptz[])
                   AS q(slot, user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, writable_until)),
        written AS (
            INSERT INTO user_data_records AS r (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
            SELECT user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, now(), now()
              FROM asked WHERE in_time
             ORDER BY user_id COLLATE "C", family, identity_provider COLLATE "C", value_key
            ON CONFLICT (user_id, family, identity_provider, value_key) DO UPDATE
               SET value_data = EXCLUDED.value_data, access_scope = EXCLUDED.access_scope, updated_at = EXCLUDED.updated_at
             WHERE r.client_app_id = EXCLUDED.client_app_id
            RETURNING r.user_id, r.family, r.identity_provider, r.value_key)
        SELECT a.slot, a.in_time, w.value_key IS NOT NULL
          FROM asked a
          LEFT JOIN written w
            ON w.user_id = a.user_id AND w.family = a.family AND w.identity_provider = a.identity_provider AND w.value_key = a.value_key
        """;

    public SetBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal SetBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedSets = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueuedSets, MaxWeightPerBatch, timeout)
    {
    }

    /// <summary>
    /// Creates the record, or replaces value and scope when <paramref name="clientAppId"/> owns it; only until
    /// <paramref name="writableUntil"/> (UTC; the storage deadline from now unless given), past which it throws
    /// <see cref="StorageTimeoutException"/>.
    /// </summary>
    public Task<SetOutcome> StoreAsync(
        Filing filing, string key, string value, AccessScope scope, string clientAppId, CancellationToken cancellationToken, DateTime? writableUntil = null)
    {
        var weight = 1 + value.Length / CharactersPerWeight;
        return EnqueueAsync(new Write(
            filing, key, value, (short)scope, clientAppId, writableUntil ?? WritableFromNow(), cancellationToken, DeadlineFromNow(), weight));
    }

    protected override bool Conflicts(List<Write> batch, Write next) => batch.Exists(write => write.IsSameRecord(next));

    // One set the database cannot take (a key too long for the index, say) must not fail the others.
    protected override Task ExecuteAsync(List<Write> batch, int weight, CancellationToken cancellationToken) =>
        SendOrEachAloneAsync(batch, WriteAsync, cancellationToken);

    private async Task WriteAsync(List<Write> batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        var slots = new int[count];
        var users = new string[count];
        var families = new short[count];
        var providers = new string[count];
        var keys = new string[count];
        var values = new string[count];
        var scopes = new short[count];
        var apps = new string[count];
        var until = new DateTime[count];
        for (var i = 0; i < count; i++)
        {
            var write = batch[i];
            slots[i] = i;
            users[i] = write.Filing.UserId;
            families[i] = (short)write.Filing.Family;
            providers[i] = write.Filing.IdentityProvider;
            keys[i] = write.Key;
            values[i] = write.Value;
            scopes[i] = write.Scope;
            apps[i] = write.ClientAppId;
            until[i] = write.WritableUntil;
        }

        var outcomes = new (bool InTime, bool Written)[count];
        await using (var command = DataSource.CreateCommand(BatchSql))
        {
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = slots });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
            command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = families });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = providers });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = values });
            command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = scopes });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = apps });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = until });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                outcomes[reader.GetInt32(0)] = (reader.GetBoolean(1), reader.GetBoolean(2));
            }
        }
        // Committed: only now is any of them answered.
        for (var i = 0; i < count; i++)
        {
            var (inTime, written) = outcomes[i];
            if (!inTime)
            {
                batch[i].Done.TrySetException(new StorageTimeoutException(StorageTimeout));
            }
            else
            {
                batch[i].Done.TrySetResult(written ? SetOutcome.Stored : SetOutcome.KeyAccessDenied);
            }
        }
    }

    /// <summary>One set waiting for its batch.</summary>
    public sealed record Write(
        Filing Filing, string Key, string Value, short Scope, string ClientAppId, DateTime WritableUntil, CancellationToken GaveUp, long Deadline, int Weight)
        : BatchedCall<SetOutcome>(GaveUp, Deadline, Weight)
    {
        public bool IsSameRecord(Write other) => Filing == other.Filing && string.Equals(Key, other.Key, StringComparison.Ordinal);
    }
}
