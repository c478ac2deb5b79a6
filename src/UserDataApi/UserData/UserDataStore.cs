using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// Reads and writes user-data records; every call is one SQL statement (the cursor key aside), and
/// concurrent gets share one (<see cref="GetBatcher"/>). The two hot calls, get and set, go straight to
/// Npgsql with positional parameters, so that their statements are prepared once per connection and no
/// query translation runs per request.
/// </summary>
public sealed class UserDataStore(UserDataDbContext db, NpgsqlDataSource dataSource, SearchCursor cursors, GetBatcher batcher, IOptions<UserDataOptions> options)
{
    // The conflict branch only updates a row the caller's client app owns, so no row comes back
    // exactly when the key belongs to another client app.
    private const string UpsertSql = """
        INSERT INTO user_data_records AS r (user_id, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, now(), now())
        ON CONFLICT (user_id, identity_provider, value_key) DO UPDATE
           SET value_data = EXCLUDED.value_data, access_scope = EXCLUDED.access_scope, updated_at = EXCLUDED.updated_at
         WHERE r.client_app_id = EXCLUDED.client_app_id
        RETURNING 1
        """;

    /// <summary>Creates the record, or replaces value and scope when the caller's client app owns it (-7 otherwise).</summary>
    public async Task<SetResponse> SetAsync(SetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!UserDataText.IsValidKey(request.ValueKey, options.Value.MaxKeyLength))
        {
            return new SetResponse(request.RequestId, ResultCode.KeyInvalid);
        }

        await using var command = dataSource.CreateCommand(UpsertSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = caller.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.IdentityProvider });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.ValueKey });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.ValueData });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)(request.AccessScope ?? (int)AccessScope.Public) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = caller.ClientAppId });
        var written = await command.ExecuteScalarAsync(cancellationToken);

        return new SetResponse(request.RequestId, written is not null ? ResultCode.Success : ResultCode.KeyAccessDenied);
    }

    /// <summary>The caller's own records and other client apps' public ones, in the order the keys were asked for.</summary>
    public async Task<GetResponse> GetAsync(GetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var keys = request.ValueKeys.Distinct(StringComparer.Ordinal).ToArray();
        var found = await batcher.FindAsync(caller.UserId, request.IdentityProvider, keys, caller.ClientAppId, cancellationToken);

        var values = new List<UserDataValue>(found.Count);
        foreach (var key in keys)
        {
            if (found.TryGetValue(key, out var value))
            {
                values.Add(new UserDataValue(key, value));
            }
        }
        return new GetResponse(request.RequestId, values.Count > 0 ? ResultCode.Success : ResultCode.SuccessNotFound, values);
    }

    /// <summary>The keys the caller's client app owns, split by access scope, in key order.</summary>
    public async Task<ListGetResponse> ListGetAsync(ListGetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var owned = await db.Records
            .AsNoTracking()
            .Where(r => r.UserId == caller.UserId && r.IdentityProvider == request.IdentityProvider && r.ClientAppId == caller.ClientAppId)
            .OrderBy(r => r.Key)
            .Select(r => new { r.Key, r.AccessScope })
            .ToListAsync(cancellationToken);

        var keysPrivate = owned.Where(r => r.AccessScope == AccessScope.Private).Select(r => r.Key).ToArray();
        var keysPublic = owned.Where(r => r.AccessScope != AccessScope.Private).Select(r => r.Key).ToArray();
        return new ListGetResponse(request.RequestId, owned.Count > 0 ? ResultCode.Success : ResultCode.SuccessNotFound, keysPrivate, keysPublic);
    }

    /// <summary>
    /// One page of other client apps' public keys, in key order. A full page carries a cursor to the
    /// next; a shorter one ends the listing. Only a first page that finds nothing answers 1.
    /// </summary>
    public async Task<SharedListGetResponse> SharedListGetAsync(SharedListGetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var firstPage = string.IsNullOrEmpty(request.SearchId);
        var after = "";
        if (!firstPage)
        {
            if (await cursors.ReadAsync(request.SearchId!, caller, request.IdentityProvider, cancellationToken) is not { } lastKey)
            {
                return SharedListGetResponse.Answer(request.RequestId, ResultCode.InvalidParameters);
            }
            after = lastKey;
        }

        var pageSize = (int)(request.PageSize ?? SharedListGetRequest.DefaultPageSize);
        var keys = await db.Records
            .AsNoTracking()
            .Where(r => r.UserId == caller.UserId
                        && r.IdentityProvider == request.IdentityProvider
                        && r.AccessScope == AccessScope.Public
                        && r.ClientAppId != caller.ClientAppId
                        && string.Compare(r.Key, after) > 0)
            .OrderBy(r => r.Key)
            .Select(r => r.Key)
            .Take(pageSize)
            .ToArrayAsync(cancellationToken);

        var next = keys.Length == pageSize ? await cursors.CreateAsync(caller, request.IdentityProvider, keys[^1], cancellationToken) : "";
        var result = keys.Length == 0 && firstPage ? ResultCode.SuccessNotFound : ResultCode.Success;
        return new SharedListGetResponse(request.RequestId, result, keys, next);
    }

    /// <summary>Removes the listed keys when all that exist belong to the caller's client app; removes nothing otherwise (-7).</summary>
    public async Task<DeleteResponse> DeleteAsync(DeleteRequest request, Caller caller, CancellationToken cancellationToken)
    {
        // In one order for every caller, so that two deletes of the same keys lock their rows alike (no deadlock).
        var keys = request.ValueKeys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // One statement: lock the listed rows, and delete them only if none is another client app's.
        // (Not composed with LINQ operators: PostgreSQL wants a data-modifying WITH at the top level.)
        var outcomes = await db.Database.SqlQuery<DeleteOutcome>($"""
            WITH listed AS (
                SELECT r.id, r.client_app_id FROM unnest({keys}::text[]) AS k(value_key)
                 CROSS JOIN LATERAL (
                    SELECT id, client_app_id FROM user_data_records
                     WHERE user_id = {caller.UserId} AND identity_provider = {request.IdentityProvider} AND value_key = k.value_key
                     LIMIT 1 FOR UPDATE) AS r),
            foreign_keys AS (SELECT 1 FROM listed WHERE client_app_id <> {caller.ClientAppId}),
            removed AS (
                DELETE FROM user_data_records r USING listed
                 WHERE r.id = listed.id AND NOT EXISTS (SELECT 1 FROM foreign_keys)
                RETURNING 1)
            SELECT (SELECT count(*) FROM listed)::int AS "Listed",
                   (SELECT count(*) FROM foreign_keys)::int AS "Foreign"
            """).ToListAsync(cancellationToken);
        var outcome = outcomes.Single();

        var result = outcome.Foreign > 0 ? ResultCode.KeyAccessDenied
            : outcome.Listed == 0 ? ResultCode.SuccessNotFound
            : ResultCode.Success;
        return new DeleteResponse(request.RequestId, result);
    }

    private sealed class DeleteOutcome
    {
        public int Listed { get; set; }
        public int Foreign { get; set; }
    }
}
