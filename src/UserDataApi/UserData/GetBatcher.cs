using System.Threading.Channels;
using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>Answers concurrent gets with one statement per batch.</summary>
/// <remarks>
/// Gets queue here and one loop sends all that are waiting as one batch: a lone get goes out at once, and
/// under load each batch carries the gets that arrived while the previous one was in the database. A batch
/// that fails, or outlasts the command timeout of its oldest get, fails each of its gets. At most
/// <see cref="DefaultMaxQueuedGets"/> gets wait (beyond that a get fails at once), and a get fails once it has
/// waited the connection string's command timeout, queued or sent: a flood, or a database that hangs, delays
/// nobody past that.
/// </remarks>
public sealed class GetBatcher : IAsyncDisposable
{
    /// <summary>Key lookups per batch; a get with more keys than this goes out in a batch of its own.</summary>
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
    private readonly TimeSpan timeout;
    private readonly int maxBatchesInFlight;
    private readonly SemaphoreSlim inFlight;
    private readonly int maxQueuedGets;
    private readonly Channel<Lookup> queue = Channel.CreateUnbounded<Lookup>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;
    private int queued;
    private long batches;
    private long lookups;

    public GetBatcher(NpgsqlDataSource dataSource, StorageDeadline deadline) : this(dataSource, DefaultBatchesInFlight, timeout: deadline.Timeout)
    {
    }

    internal GetBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueuedGets = DefaultMaxQueuedGets, TimeSpan? timeout = null)
    {
        this.maxQueuedGets = maxQueuedGets;
        this.dataSource = dataSource;
        // The storage deadline: Npgsql does not enforce a command timeout here (see PersistenceExtensions), the batch does.
        this.timeout = timeout ?? Timeout.InfiniteTimeSpan;
        this.maxBatchesInFlight = maxBatchesInFlight;
        inFlight = new SemaphoreSlim(maxBatchesInFlight);
        loop = Task.Run(RunAsync);
    }

    /// <summary>Batches sent and gets they carried since start (for tests and diagnostics).</summary>
    internal (long Batches, long Lookups) Sent => (Interlocked.Read(ref batches), Interlocked.Read(ref lookups));

    /// <summary>Gets waiting to be sent.</summary>
    internal int Queued => Volatile.Read(ref queued);

    /// <summary>The values visible to <paramref name="clientAppId"/> for <paramref name="keys"/> (distinct), by key.</summary>
    public Task<Dictionary<string, string>> FindAsync(Filing filing, string[] keys, string clientAppId, CancellationToken cancellationToken)
    {
        // No stored row holds a NUL, and a parameter holding one would fail the whole batch.
        if (!StoredText.IsStorable(filing.UserId) || !StoredText.IsStorable(filing.IdentityProvider) || !StoredText.IsStorable(clientAppId))
        {
            return Task.FromResult(new Dictionary<string, string>(StringComparer.Ordinal));
        }
        // A counter, not a bounded channel: the channel's lock would be taken by every get on the hot path.
        if (Interlocked.Increment(ref queued) > maxQueuedGets)
        {
            Interlocked.Decrement(ref queued);
            return Task.FromException<Dictionary<string, string>>(new GetQueueFullException());
        }
        var lookup = new Lookup(filing, keys, clientAppId, cancellationToken, Environment.TickCount64 + (long)timeout.TotalMilliseconds);
        if (!queue.Writer.TryWrite(lookup))
        {
            Interlocked.Decrement(ref queued);
            return Task.FromException<Dictionary<string, string>>(new ObjectDisposedException(nameof(GetBatcher)));
        }
        return lookup.Found.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        while (await queue.Reader.WaitToReadAsync())
        {
            await inFlight.WaitAsync();
            var batch = new List<Lookup>();
            var pairs = 0;
            while (queue.Reader.TryPeek(out var next) && (batch.Count == 0 || pairs + next.Keys.Length <= MaxPairsPerBatch))
            {
                queue.Reader.TryRead(out _);
                Interlocked.Decrement(ref queued);
                if (next.GaveUp.IsCancellationRequested)
                {
                    // Its caller has gone: nobody reads its answer.
                    continue;
                }
                if (timeout != Timeout.InfiniteTimeSpan && Environment.TickCount64 >= next.Deadline)
                {
                    // It waited (behind batches that hung, say) as long as a get may: it fails, it is not sent.
                    next.Found.TrySetException(new TimeoutException("the get waited longer than the command timeout"));
                    continue;
                }
                batch.Add(next);
                pairs += next.Keys.Length;
            }
            if (batch.Count == 0)
            {
                inFlight.Release();
                continue;
            }
            Interlocked.Increment(ref batches);
            Interlocked.Add(ref lookups, batch.Count);
            _ = SendAsync(batch, pairs);
        }
    }

    private async Task SendAsync(List<Lookup> batch, int pairs)
    {
        // The batch has what is left of its oldest get's time, so that no get waits past its own deadline.
        var left = timeout == Timeout.InfiniteTimeSpan
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromMilliseconds(Math.Max(1, batch.Min(lookup => lookup.Deadline) - Environment.TickCount64));
        var cancellation = new CancellationTokenSource();
        var query = QueryAsync(batch, pairs, cancellation.Token);
        try
        {
            var found = await query.WaitAsync(left);
            cancellation.Dispose();
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Found.TrySetResult(found[i]);
            }
        }
        catch (Exception exception)
        {
            StorageDeadline.CancelAside(cancellation);
            // A query past its deadline may still end later: its outcome is nobody's any more.
            _ = query.ContinueWith(static q => q.Exception, TaskContinuationOptions.OnlyOnFaulted);
            foreach (var lookup in batch)
            {
                lookup.Found.TrySetException(exception);
                // Read it here too, for gets whose callers gave up and will never read it.
                _ = lookup.Found.Task.Exception;
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task<Dictionary<string, string>[]> QueryAsync(List<Lookup> batch, int pairs, CancellationToken cancellationToken)
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

        await using var command = dataSource.CreateCommand(BatchSql);
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
        return found;
    }

    /// <summary>Refuses new gets, and returns once the queued ones are answered.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!queue.Writer.TryComplete())
        {
            return;
        }
        await loop;
        for (var i = 0; i < maxBatchesInFlight; i++)
        {
            await inFlight.WaitAsync();
        }
    }

    /// <summary>One get waiting for its batch; <c>Deadline</c> is when its caller stops waiting, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
    private sealed record Lookup(Filing Filing, string[] Keys, string ClientAppId, CancellationToken GaveUp, long Deadline)
    {
        public TaskCompletionSource<Dictionary<string, string>> Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>More gets are waiting than <see cref="GetBatcher"/> queues: this one is refused at once (-4).</summary>
public sealed class GetQueueFullException() : Exception("too many gets are waiting for the database");
