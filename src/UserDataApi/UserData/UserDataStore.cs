using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// Reads and writes user-data records of every sub-family, each call within one <see cref="Filing"/>; every
/// call is one SQL statement (the cursor key aside). Concurrent gets share one (<see cref="GetBatcher"/>), as do concurrent
/// sets, and their commit (<see cref="SetBatcher"/>), and concurrent list calls (<see cref="OwnKeysBatcher"/>,
/// <see cref="SharedPageBatcher"/>); concurrent deletes share a commit (<see cref="DeleteBatcher"/>).
/// Every call goes straight to Npgsql with positional parameters, so that its statement is prepared once per
/// connection and no query translation runs per request. Answers are outcomes; each
/// sub-family's endpoints turn them into its own result codes.
/// </summary>
public sealed class UserDataStore(
    SearchCursor cursors, GetBatcher batcher, SetBatcher sets, DeleteBatcher deletes, OwnKeysBatcher ownKeys, SharedPageBatcher sharedPages, IOptions<UserDataOptions> options)
{
    /// <summary>Creates the record, or replaces value and scope when the caller's client app owns it.</summary>
    public async Task<SetOutcome> SetAsync(Filing filing, SetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        if (!UserDataText.IsValidKey(request.ValueKey, options.Value.MaxKeyLength))
        {
            return SetOutcome.KeyInvalid;
        }

        return await sets.StoreAsync(
            filing, request.ValueKey, request.ValueData, (AccessScope)(request.AccessScope ?? (int)AccessScope.Public),
            caller.ClientAppId, cancellationToken);
    }

    /// <summary>The caller's own records and other client apps' public ones, in the order the keys were asked for, each key once.</summary>
    public async Task<IReadOnlyList<UserDataValue>> GetAsync(Filing filing, GetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var keys = request.ValueKeys.Distinct(StringComparer.Ordinal).ToArray();
        var found = await batcher.FindAsync(filing, keys, caller.ClientAppId, cancellationToken);

        var values = new List<UserDataValue>(found.Count);
        foreach (var key in keys)
        {
            if (found.TryGetValue(key, out var value))
            {
                values.Add(new UserDataValue(key, value));
            }
        }
        return values;
    }

    /// <summary>The keys the caller's client app owns, split by access scope, in key order.</summary>
    public Task<OwnKeys> ListOwnAsync(Filing filing, Caller caller, CancellationToken cancellationToken) =>
        ownKeys.ListAsync(filing, caller.ClientAppId, cancellationToken);

    /// <summary>
    /// Whether <see cref="SharedPageAsync"/> only queues on its batcher, which holds it to the storage deadline: true once the
    /// cursors' signing key is cached. Before that, reading it is a query of its own, which needs the deadline around it.
    /// </summary>
    public bool SharedPageOnlyQueues => cursors.IsKeyCached;

    /// <summary>
    /// One page of other client apps' public keys, in key order. A full page carries a cursor to the
    /// next; a shorter one ends the listing. Null when <c>search_id</c> is not a cursor issued for this caller and filing.
    /// </summary>
    public async Task<SharedPage?> SharedPageAsync(Filing filing, SharedListGetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var firstPage = string.IsNullOrEmpty(request.SearchId);
        var after = "";
        if (!firstPage)
        {
            if (await cursors.ReadAsync(request.SearchId!, caller, filing, cancellationToken) is not { } lastKey)
            {
                return null;
            }
            after = lastKey;
        }

        var pageSize = (int)(request.PageSize ?? SharedListGetRequest.DefaultPageSize);
        var keys = await sharedPages.PageAsync(filing, caller.ClientAppId, after, pageSize, cancellationToken);
        var next = keys.Length == pageSize ? await cursors.CreateAsync(caller, filing, keys[^1], cancellationToken) : "";
        return new SharedPage(keys, next, firstPage);
    }

    /// <summary>
    /// by-idp's delete: removes the listed keys when all that exist belong to the caller's client app, and
    /// nothing otherwise. Returns how many of them existed, and how many of those belong to other client apps.
    /// </summary>
    public async Task<(int Listed, int Foreign)> DeleteAllOrNothingAsync(Filing filing, DeleteRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var outcome = await deletes.DeleteAsync(filing, request.ValueKeys, caller.ClientAppId, allOrNothing: true, cancellationToken);
        return (outcome.Listed, outcome.Foreign);
    }

    /// <summary>
    /// by-user-id's and by-email's delete: removes those of the listed keys that the caller's client app owns,
    /// and leaves other client apps' keys alone. Returns the keys removed.
    /// </summary>
    public async Task<IReadOnlySet<string>> DeleteOwnAsync(Filing filing, DeleteRequest request, Caller caller, CancellationToken cancellationToken) =>
        (await deletes.DeleteAsync(filing, request.ValueKeys, caller.ClientAppId, allOrNothing: false, cancellationToken)).Removed;
}

/// <summary>What a set did.</summary>
public enum SetOutcome
{
    Stored,
    /// <summary>The key belongs to another client app; nothing changed.</summary>
    KeyAccessDenied,
    /// <summary>Empty, too long, or holding control characters.</summary>
    KeyInvalid,
}

/// <summary>The keys a client app owns in one filing, by access scope.</summary>
public sealed record OwnKeys(string[] Private, string[] Public)
{
    public bool IsEmpty => Private.Length == 0 && Public.Length == 0;
}

/// <summary>One page of shared keys, the cursor to the next (empty when the page is not full), and whether it was the first.</summary>
public sealed record SharedPage(string[] Keys, string Next, bool IsFirst);
