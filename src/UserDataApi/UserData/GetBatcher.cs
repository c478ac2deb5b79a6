using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>Answers concurrent gets with one statement per batch (see <see cref="StatementBatcher{TCall, TResult}"/>).</summary>
/// <remarks>A get with more keys than <see cref="MaxPairsPerBatch"/> goes out in a batch of its own.</remarks>
public sealed class GetBatcher : StatementBatcher<GetBatcher.Lookup, Dictionary<string, string>>
{
    /// <summary>Key lookups per batch.</summary>
    internal const int MaxPairsPerBatch = 1024;

    // One unique-index probe per (get, key) pair, as a get of its own would make. The LIMIT keeps the
    // generic plan from scanning all of a user's keys under the provider, which for a user with thousands
    // of keys would cost thousands of rows per get. Each get's filing and client app are sent once, not once
    // per key, and each row answers with its pair's number rather than the key's text.
    internal const string BatchSql = """
        SELECT k.pair, r.value_data
          FROM unnest($1::text[], $2::smallint[], $3::text[], $4::text[]) WITH ORDINALITY
               AS q(user_id, family, identity_provider, client_app_id, lookup)
          JOIN unnest($5::int[], $6::text[]) WITH ORDINALITY AS k(lookup, value_key, pair) ON k.lookup = q.lookup
         CROSS JOIN LATERAL (
            SELECT value_data FROM user_data_records
             WHERE user_id = q.user_id AND family = q.family AND identity_provider = q.identity_provider AND value_key = k.value_key
               AND (client_app_id = q.client_app_id OR access_scope = 1)
             LIMIT 1) AS r
        """;

    public GetBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal GetBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedGets = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueuedGets, MaxPairsPerBatch, timeout)
    {
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
        var users = new string[batch.Count];
        var families = new short[batch.Count];
        var providers = new string[batch.Count];
        var apps = new string[batch.Count];
        var found = new Dictionary<string, string>[batch.Count];
        // Pair n (from 1) is owners[n - 1]'s keys[n - 1]; owners count lookups from 1, as WITH ORDINALITY does.
        var owners = new int[pairs];
        var keys = new string[pairs];
        var at = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var lookup = batch[i];
            users[i] = lookup.Filing.UserId;
            families[i] = (short)lookup.Filing.Family;
            providers[i] = lookup.Filing.IdentityProvider;
            apps[i] = lookup.ClientAppId;
            found[i] = new Dictionary<string, string>(lookup.Keys.Length, StringComparer.Ordinal);
            foreach (var key in lookup.Keys)
            {
                owners[at] = i + 1;
                keys[at] = key;
                at++;
            }
        }

        await using (var command = DataSource.CreateCommand(BatchSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
            command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = families });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = providers });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = apps });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = owners });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var pair = (int)reader.GetInt64(0) - 1;
                found[owners[pair] - 1][keys[pair]] = reader.GetString(1);
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
