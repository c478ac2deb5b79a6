using System.Threading.Channels;
using Npgsql;

namespace UserDataApi.Persistence;

/// <summary>One call waiting in a <see cref="StatementBatcher{TCall, TResult}"/> for its batch.</summary>
/// <param name="GaveUp">Its caller has left: it is not sent.</param>
/// <param name="Deadline">When its caller stops waiting, in <see cref="Environment.TickCount64"/> milliseconds.</param>
/// <param name="Weight">What it adds to its batch (gets: its keys).</param>
public abstract record BatchedCall<TResult>(CancellationToken GaveUp, long Deadline, int Weight)
{
    public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Calls that go to the database in batches: <see cref="UserData.GetBatcher"/>, <see cref="UserData.SetBatcher"/>,
/// <see cref="UserData.DeleteBatcher"/>, <see cref="UserData.OwnKeysBatcher"/>, <see cref="UserData.SharedPageBatcher"/>
/// and <see cref="Intents.RetrieveBatcher"/>.
/// </summary>
/// <remarks>
/// Calls queue here and one loop sends all that are waiting as one batch: a lone call goes out at once, and under
/// load each batch carries the calls that arrived while the previous one was in the database. A batch that fails, or
/// outlasts the deadline of its oldest call, fails each of its calls (unless <see cref="ExecuteAsync"/> answers them
/// itself). At most <c>maxQueued</c> calls wait (beyond that a call fails at once with
/// <see cref="StorageQueueFullException"/>), and a call fails once it has waited the storage deadline, queued or sent:
/// a flood, or a database that hangs, delays nobody past that.
/// </remarks>
public abstract class StatementBatcher<TCall, TResult> : IAsyncDisposable where TCall : BatchedCall<TResult>
{
    private readonly TimeSpan timeout;
    private readonly int maxBatchesInFlight;
    private readonly int maxQueued;
    private readonly int maxWeightPerBatch;
    private readonly SemaphoreSlim inFlight;
    private readonly Channel<TCall> queue = Channel.CreateUnbounded<TCall>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;
    private int queued;
    private long batches;
    private long calls;

    /// <param name="dataSource">Where the batches go (in the server, <see cref="StatementBatches.DataSourceKey"/>).</param>
    /// <param name="maxBatchesInFlight">Batches in the database at once.</param>
    /// <param name="maxQueued">Calls that may wait at once.</param>
    /// <param name="maxWeightPerBatch">What one batch may carry; a heavier call goes out alone.</param>
    /// <param name="timeout">The storage deadline; Npgsql enforces no command timeout here (see PersistenceExtensions), the batch does.</param>
    protected StatementBatcher(NpgsqlDataSource dataSource, int maxBatchesInFlight, int maxQueued, int maxWeightPerBatch, TimeSpan? timeout)
    {
        DataSource = dataSource;
        this.timeout = timeout ?? Timeout.InfiniteTimeSpan;
        this.maxBatchesInFlight = maxBatchesInFlight;
        this.maxQueued = maxQueued;
        this.maxWeightPerBatch = maxWeightPerBatch;
        inFlight = new SemaphoreSlim(maxBatchesInFlight);
        // The loop serves every caller: it must not carry the first one's context (its trace, say) into every batch.
        using (ExecutionContext.SuppressFlow())
        {
            loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Where the batches go.</summary>
    internal NpgsqlDataSource DataSource { get; }

    /// <summary>Batches sent and calls they carried since start (for tests and diagnostics).</summary>
    internal (long Batches, long Calls) Sent => (Interlocked.Read(ref batches), Interlocked.Read(ref calls));

    /// <summary>Calls waiting to be sent.</summary>
    internal int Queued => Volatile.Read(ref queued);

    /// <summary>The storage deadline each call is held to (infinite only in tests).</summary>
    protected TimeSpan StorageTimeout => timeout;

    /// <summary>
    /// Until when (UTC) a write queued now may still land: the storage deadline from now. Its statement checks it against the
    /// database's clock, so that a write given up on (-4) never lands later, when a database that hung wakes up.
    /// </summary>
    protected DateTime WritableFromNow() => timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;

    /// <summary>When a call queued now stops waiting: the storage deadline from now.</summary>
    protected long DeadlineFromNow() =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;

    /// <summary>Queues <paramref name="call"/>; its answer, or a failure once its caller gives up.</summary>
    protected Task<TResult> EnqueueAsync(TCall call)
    {
        // A counter, not a bounded channel: the channel's lock would be taken by every call on the hot path.
        if (Interlocked.Increment(ref queued) > maxQueued)
        {
            Interlocked.Decrement(ref queued);
            return Task.FromException<TResult>(new StorageQueueFullException());
        }
        if (!queue.Writer.TryWrite(call))
        {
            Interlocked.Decrement(ref queued);
            return Task.FromException<TResult>(new ObjectDisposedException(GetType().Name));
        }
        return call.Done.Task.WaitAsync(call.GaveUp);
    }

    /// <summary>Whether <paramref name="next"/> must wait for a later batch than <paramref name="batch"/> (sets: the same record).</summary>
    protected virtual bool Conflicts(List<TCall> batch, TCall next) => false;

    /// <summary>Sends <paramref name="batch"/> and answers each of its calls; throwing fails those it has not answered.</summary>
    protected abstract Task ExecuteAsync(List<TCall> batch, int weight, CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="batch"/> with <paramref name="send"/>; when the database refuses it (a statement failed, which
    /// for a write rolls the whole batch back), sends each call alone, so that one call the database cannot take fails no other.
    /// </summary>
    protected static async Task SendOrEachAloneAsync(List<TCall> batch, Func<List<TCall>, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        try
        {
            await send(batch, cancellationToken);
        }
        catch (Exception exception) when (batch.Count > 1 && !cancellationToken.IsCancellationRequested && IsTheStatements(exception))
        {
            foreach (var call in batch)
            {
                try
                {
                    await send([call], cancellationToken);
                }
                catch (Exception alone) when (!cancellationToken.IsCancellationRequested)
                {
                    call.Done.TrySetException(alone);
                }
            }
        }
    }

    /// <summary>A failure of the batch's statements, not of the connection or the database: each call alone may still succeed.</summary>
    private static bool IsTheStatements(Exception exception) => exception is PostgresException or not NpgsqlException;

    private async Task RunAsync()
    {
        while (await queue.Reader.WaitToReadAsync())
        {
            await inFlight.WaitAsync();
            var batch = new List<TCall>();
            var weight = 0;
            while (queue.Reader.TryPeek(out var next)
                && (batch.Count == 0 || (weight + next.Weight <= maxWeightPerBatch && !Conflicts(batch, next))))
            {
                queue.Reader.TryRead(out _);
                Interlocked.Decrement(ref queued);
                if (next.GaveUp.IsCancellationRequested)
                {
                    // Its caller has gone: nobody reads its answer.
                    continue;
                }
                if (Environment.TickCount64 >= next.Deadline)
                {
                    // It waited (behind batches that hung, say) as long as a call may: it fails, it is not sent.
                    next.Done.TrySetException(new TimeoutException("the call waited longer than the storage deadline"));
                    continue;
                }
                batch.Add(next);
                weight += next.Weight;
            }
            if (batch.Count == 0)
            {
                inFlight.Release();
                continue;
            }
            Interlocked.Increment(ref batches);
            Interlocked.Add(ref calls, batch.Count);
            _ = SendAsync(batch, weight);
        }
    }

    private async Task SendAsync(List<TCall> batch, int weight)
    {
        // The batch has what is left of its oldest call's time, so that no call waits past its own deadline.
        var oldest = batch.Min(call => call.Deadline);
        var left = oldest == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(1, oldest - Environment.TickCount64));
        var cancellation = new CancellationTokenSource();
        var work = ExecuteAsync(batch, weight, cancellation.Token);
        try
        {
            await work.WaitAsync(left);
            cancellation.Dispose();
            // Answered calls keep their answers; one the work missed must not wait for ever.
            foreach (var call in batch)
            {
                if (!call.Done.Task.IsCompleted)
                {
                    call.Done.TrySetException(new InvalidOperationException($"{GetType().Name} left a call unanswered"));
                }
            }
        }
        catch (Exception exception)
        {
            StorageDeadline.CancelAside(cancellation);
            // Work past its deadline may still end later: its outcome is nobody's any more.
            _ = work.ContinueWith(static w => w.Exception, TaskContinuationOptions.OnlyOnFaulted);
            foreach (var call in batch)
            {
                call.Done.TrySetException(exception);
                // Read it here too, for calls whose callers gave up and will never read it.
                _ = call.Done.Task.Exception;
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>Refuses new calls, and returns once the queued ones are answered.</summary>
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
        GC.SuppressFinalize(this);
    }
}

/// <summary>What the statement batchers share: how many batches each keeps in the database, and the pool they go out on.</summary>
internal static class StatementBatches
{
    /// <summary>
    /// Batches each batcher keeps in the database at once: one per two cores. On two cores one batch at a time measured
    /// best, and more would only split the waiting calls into smaller batches.
    /// </summary>
    public static readonly int InFlight = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Calls each batcher lets wait at once: several full batches' worth, far more than a healthy database lets pile up.</summary>
    public const int MaxQueued = 4096;

    /// <summary>
    /// The service key of the batches' own data source (<see cref="PersistenceExtensions.BuildBatchDataSource"/>): with one
    /// batch per batcher in the database at a time, handing each batch to Npgsql's multiplexing writer cost a thread hop
    /// per batch, more than it saved.
    /// </summary>
    public const string DataSourceKey = "statement-batches";
}

/// <summary>More calls are waiting for the database than a batcher queues: this one is refused at once (-4).</summary>
public sealed class StorageQueueFullException() : Exception("too many calls are waiting for the database");
