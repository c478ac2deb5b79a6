using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>Answers concurrent gets with one statement per batch (see <see cref="StatementBatcher{TCall, TResult}"/>).</summary>
/// <remarks>A get with more keys than <see cref="MaxPairsPerBatch"/> goes out in a batch of its own.</remarks>
public sealed class GetBatcher : StatementBatcher<GetBatcher.Lookup, Dictionary<string, string>>
{
    /// <summary>Key lookups per batch.</summary>
    internal const int MaxPairsPerBatch = 1024;

    /// <summary>Gets that may wait at once: several full batches' worth, far more than a healthy database lets pile up.</summary>
    internal const int DefaultMaxQueuedGets = 4 * MaxPairsPerBatch;

    /// <summary>
    /// Batches in the database at once: one per two cores. On two cores one batch at a time measured best,
    /// and more would only split the waiting gets into smaller batches.
    /// </summary>
    private static readonly int DefaultBatchesInFlight = Math.Max(1, Environment.ProcessorCount / 2);

    // One unique-index probe per (get, key) pair, as a get of its own would make. The LIMIT keeps the
    // generic plan from scanning all of a user's keys under the provider, which for a user with thousands
    // of keys would cost thousands of rows per get.
    internal const string BatchSql = """
        SELECT q.lookup, q.value_key, r.value_data
          FROM unnest($1::int[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[])
               AS q(lookup, user_id, family, identity_provider, value_key, client_app_id)
         CROSS JOIN LATERAL (
            SELECT value_data FROM user_data_records
             WHERE user_id = q.user_id AND family = q.family AND identity_provider = q.identity_provider AND value_key = q.value_key
               AND (client_app_id = q.client_app_id OR access_scope = 1)
             LIMIT 1) AS r
        """;

    private readonly NpgsqlDataSource dataSource;

    public GetBatcher(NpgsqlDataSource dataSource, StorageDeadline deadline) : this(dataSource, DefaultBatchesInFlight, timeout: deadline.Timeout)
    {
    }

    internal GetBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedGets = DefaultMaxQueuedGets, TimeSpan? timeout = null)
        : base(maxBatchesInFlight, maxQueuedGets, MaxPairsPerBatch, timeout)
    {
        this.dataSource = dataSource;
    }

    /// <summary>The values visible to <paramref name="clientAppId"/> for <paramref name="keys"/> (distinct), by key.</summary>
    public Task<Dictionary<string, string>> FindAsync(Filing filing, string[] keys, string clientAppId, CancellationToken cancellationToken)
    {
        // No stored row holds a NUL, and a parameter holding one would fail the whole batch.
        if (!StoredText.IsStorable(filing.UserId) || !StoredText.IsStorable(filing.IdentityProvider) || !StoredText.IsStorable(clientAppId))
        {
            return Task.FromResult(new Dictionary<string, string>(StringComparer.Ordinal));
        }
        return EnqueueAsync(new Lookup(filing, keys, clientAppId, cancellationToken, DeadlineFromNow()));
    }

    protected override async Task ExecuteAsync(List<Lookup> batch, int pairs, CancellationToken cancellationToken)
    {
        var owners = new int[pairs];
        var users = new string[pairs];
        var families = new short[pairs];
        var providers = new string[pairs];
        var keys = new string[pairs];
        var apps = new string[pairs];
        var found = new Dictionary<string, string>[batch.Count];
        var at = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var lookup = batch[i];
            found[i] = new Dictionary<string, string>(lookup.Keys.Length, StringComparer.Ordinal);
            foreach (var key in lookup.Keys)
            {
                owners[at] = i;
                users[at] = lookup.Filing.UserId;
                families[at] = (short)lookup.Filing.Family;
                providers[at] = lookup.Filing.IdentityProvider;
                keys[at] = key;
                apps[at] = lookup.ClientAppId;
                at++;
            }
        }

        await using (var command = dataSource.CreateCommand(BatchSql))
        {
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = owners });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
            command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = families });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = providers });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = apps });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found[reader.GetInt32(0)][reader.GetString(1)] = reader.GetString(2);
            }
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(found[i]);
        }
    }

    /// <summary>One get waiting for its batch.</summary>
    public sealed record Lookup(Filing Filing, string[] Keys, string ClientAppId, CancellationToken GaveUp, long Deadline)
        : BatchedCall<Dictionary<string, string>>(GaveUp, Deadline, Keys.Length);
}
