using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>list-get: concurrent listings of a client app's own keys share one statement (see <see cref="StatementBatcher{TCall, TResult}"/>).</summary>
public sealed class OwnKeysBatcher : StatementBatcher<OwnKeysBatcher.Listing, OwnKeys>
{
    /// <summary>Listings per batch.</summary>
    internal const int MaxListingsPerBatch = 64;

    // Each listing's rows in key order ("C" collation: byte order), listings one after another.
    internal const string BatchSql = """
        SELECT q.slot, r.value_key, r.access_scope
          FROM unnest($1::int[], $2::text[], $3::smallint[], $4::text[], $5::text[]) AS q(slot, user_id, family, identity_provider, client_app_id)
         CROSS JOIN LATERAL (
            SELECT value_key, access_scope FROM user_data_records
             WHERE user_id = q.user_id AND family = q.family AND identity_provider = q.identity_provider AND client_app_id = q.client_app_id) AS r
         ORDER BY q.slot, r.value_key
        """;

    public OwnKeysBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal OwnKeysBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueued = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueued, MaxListingsPerBatch, timeout)
    {
    }

    /// <summary>The keys <paramref name="clientAppId"/> owns in <paramref name="filing"/>, split by access scope, in key order.</summary>
    public Task<OwnKeys> ListAsync(Filing filing, string clientAppId, CancellationToken cancellationToken) =>
        ListBatches.IsStorable(filing, clientAppId)
            ? EnqueueAsync(new Listing(filing, clientAppId, cancellationToken, DeadlineFromNow()))
            : Task.FromResult(new OwnKeys([], []));

    protected override async Task ExecuteAsync(List<Listing> batch, int weight, CancellationToken cancellationToken)
    {
        var found = new (List<string> Private, List<string> Public)[batch.Count];
        await using (var command = DataSource.CreateCommand(BatchSql))
        {
            ListBatches.AddFilings(command, batch, static listing => (listing.Filing, listing.ClientAppId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ref var keys = ref found[reader.GetInt32(0)];
                keys.Private ??= [];
                keys.Public ??= [];
                (reader.GetInt16(2) == (short)AccessScope.Private ? keys.Private : keys.Public).Add(reader.GetString(1));
            }
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(new OwnKeys([.. found[i].Private ?? []], [.. found[i].Public ?? []]));
        }
    }

    /// <summary>One list-get waiting for its batch.</summary>
    public sealed record Listing(Filing Filing, string ClientAppId, CancellationToken GaveUp, long Deadline)
        : BatchedCall<OwnKeys>(GaveUp, Deadline, 1);
}

/// <summary>shared-list-get: concurrent pages of other client apps' public keys share one statement.</summary>
public sealed class SharedPageBatcher : StatementBatcher<SharedPageBatcher.PageAsk, string[]>
{
    /// <summary>What a batch may carry: each page weighs 1 per started 100 keys of its size.</summary>
    internal const int MaxWeightPerBatch = 64;

    // Each page after its cursor's key, in key order, at most its page size.
    internal const string BatchSql = """
        SELECT q.slot, r.value_key
          FROM unnest($1::int[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::int[])
               AS q(slot, user_id, family, identity_provider, client_app_id, after_key, page_size)
         CROSS JOIN LATERAL (
            SELECT value_key FROM user_data_records
             WHERE user_id = q.user_id AND family = q.family AND identity_provider = q.identity_provider
               AND access_scope = 1 AND client_app_id <> q.client_app_id AND value_key > q.after_key
             ORDER BY value_key
             LIMIT q.page_size) AS r
         ORDER BY q.slot, r.value_key
        """;

    public SharedPageBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal SharedPageBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueued = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueued, MaxWeightPerBatch, timeout)
    {
    }

    /// <summary>Up to <paramref name="pageSize"/> public keys of other client apps than <paramref name="clientAppId"/> after <paramref name="after"/>, in key order.</summary>
    public Task<string[]> PageAsync(Filing filing, string clientAppId, string after, int pageSize, CancellationToken cancellationToken) =>
        ListBatches.IsStorable(filing, clientAppId) && StoredText.IsStorable(after)
            ? EnqueueAsync(new PageAsk(filing, clientAppId, after, pageSize, cancellationToken, DeadlineFromNow()))
            : Task.FromResult<string[]>([]);

    protected override async Task ExecuteAsync(List<PageAsk> batch, int weight, CancellationToken cancellationToken)
    {
        var found = new List<string>?[batch.Count];
        await using (var command = DataSource.CreateCommand(BatchSql))
        {
            ListBatches.AddFilings(command, batch, static ask => (ask.Filing, ask.ClientAppId));
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = batch.Select(ask => ask.After).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = batch.Select(ask => ask.PageSize).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                (found[reader.GetInt32(0)] ??= []).Add(reader.GetString(1));
            }
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(found[i] is { } keys ? [.. keys] : []);
        }
    }

    /// <summary>One shared-list-get page waiting for its batch.</summary>
    public sealed record PageAsk(Filing Filing, string ClientAppId, string After, int PageSize, CancellationToken GaveUp, long Deadline)
        : BatchedCall<string[]>(GaveUp, Deadline, 1 + (PageSize - 1) / 100);
}

/// <summary>What the two list batchers share.</summary>
internal static class ListBatches
{
    /// <summary>No stored row holds a NUL, and a parameter holding one would fail the whole batch.</summary>
    public static bool IsStorable(Filing filing, string clientAppId) =>
        StoredText.IsStorable(filing.UserId) && StoredText.IsStorable(filing.IdentityProvider) && StoredText.IsStorable(clientAppId);

    /// <summary>$1 to $5: each call's slot, filing (user, family, identity provider) and client app.</summary>
    public static void AddFilings<TCall>(NpgsqlCommand command, List<TCall> batch, Func<TCall, (Filing Filing, string ClientAppId)> of)
    {
        var count = batch.Count;
        var slots = new int[count];
        var users = new string[count];
        var families = new short[count];
        var providers = new string[count];
        var apps = new string[count];
        for (var i = 0; i < count; i++)
        {
            var (filing, clientAppId) = of(batch[i]);
            slots[i] = i;
            users[i] = filing.UserId;
            families[i] = (short)filing.Family;
            providers[i] = filing.IdentityProvider;
            apps[i] = clientAppId;
        }
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = slots });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
        command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = families });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = providers });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = apps });
    }
}
