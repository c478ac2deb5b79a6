using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>An intent as stored, and the user its provider user is linked to (none: not linked, or no provider user yet).</summary>
public sealed record IntentWithLink(IdpIntent Intent, string? LinkedUserId);

/// <summary>Reads concurrent retrieves' intents, with their links, in one statement per batch (see <see cref="StatementBatcher{TCall, TResult}"/>).</summary>
public sealed class RetrieveBatcher : StatementBatcher<RetrieveBatcher.Read, IntentWithLink?>
{
    /// <summary>Intents read per batch.</summary>
    internal const int MaxReadsPerBatch = 128;

    // One primary-key probe per asked id, and one of the links' primary key for its provider user. The LIMIT keeps the
    // lateral read from being merged into a join, which a generic plan, not knowing how many ids come, might hash.
    internal const string BatchSql = """
        SELECT q.n, i.id, i.idp_id, i.resource_owner, i.client_app_id, i.state, i.sequence, i.state_hash, i.protected_verifier,
               i.nonce, i.success_url, i.failure_url, i.token_hash, i.idp_user_id, i.idp_user_name, i.raw_information,
               i.protected_access_token, i.protected_id_token, i.protected_ldap_attributes, i.failure_reason,
               i.created_at, i.changed_at, i.expires_at,
               (SELECT l.user_id FROM idp_links l WHERE l.idp_id = i.idp_id AND l.linked_user_id = i.idp_user_id)
          FROM unnest($1::text[]) WITH ORDINALITY AS q(id, n)
         CROSS JOIN LATERAL (SELECT * FROM idp_intents WHERE id = q.id LIMIT 1) AS i
        """;

    public RetrieveBatcher([FromKeyedServices(StatementBatches.DataSourceKey)] NpgsqlDataSource dataSource, StorageDeadline deadline)
        : this(dataSource, StatementBatches.InFlight, timeout: deadline.Timeout)
    {
    }

    internal RetrieveBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedReads = StatementBatches.MaxQueued, TimeSpan? timeout = null)
        : base(dataSource, maxBatchesInFlight, maxQueuedReads, MaxReadsPerBatch, timeout)
    {
    }

    /// <summary>The intent stored as <paramref name="id"/>, with its link; none when there is no such intent.</summary>
    public Task<IntentWithLink?> FindAsync(string id, CancellationToken cancellationToken) =>
        // No stored id holds a NUL, and a parameter holding one would fail the whole batch.
        StoredText.IsStorable(id) ? EnqueueAsync(new Read(id, cancellationToken, DeadlineFromNow())) : Task.FromResult<IntentWithLink?>(null);

    protected override async Task ExecuteAsync(List<Read> batch, int weight, CancellationToken cancellationToken)
    {
        var ids = new string[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            ids[i] = batch[i].Id;
        }
        var found = new IntentWithLink?[batch.Count];
        await using (var command = DataSource.CreateCommand(BatchSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found[(int)reader.GetInt64(0) - 1] = new IntentWithLink(IntentOf(reader), Text(reader, 23));
            }
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(found[i]);
        }
    }

    /// <summary>The intent in columns 1 to 22 of <see cref="BatchSql"/>'s row.</summary>
    private static IdpIntent IntentOf(NpgsqlDataReader row) => new()
    {
        Id = row.GetString(1),
        IdpId = row.GetString(2),
        ResourceOwner = row.GetString(3),
        ClientAppId = row.GetString(4),
        State = (IntentState)row.GetInt16(5),
        Sequence = row.GetInt64(6),
        StateHash = row.GetFieldValue<byte[]>(7),
        ProtectedVerifier = row.GetFieldValue<byte[]>(8),
        Nonce = row.GetString(9),
        SuccessUrl = row.GetString(10),
        FailureUrl = row.GetString(11),
        TokenHash = Bytes(row, 12),
        IdpUserId = Text(row, 13),
        IdpUserName = Text(row, 14),
        RawInformation = Text(row, 15),
        ProtectedAccessToken = Bytes(row, 16),
        ProtectedIdToken = Bytes(row, 17),
        ProtectedLdapAttributes = Bytes(row, 18),
        FailureReason = Text(row, 19),
        CreatedAt = row.GetDateTime(20),
        ChangedAt = row.GetDateTime(21),
        ExpiresAt = row.GetDateTime(22),
    };

    private static string? Text(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);

    private static byte[]? Bytes(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetFieldValue<byte[]>(column);

    /// <summary>One retrieve's read waiting for its batch.</summary>
    public sealed record Read(string Id, CancellationToken GaveUp, long Deadline) : BatchedCall<IntentWithLink?>(GaveUp, Deadline, 1);
}
