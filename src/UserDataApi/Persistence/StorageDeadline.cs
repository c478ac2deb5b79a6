using Npgsql;

namespace UserDataApi.Persistence;

/// <summary>
/// How long a request's storage work may take: the connection string's <c>Command Timeout</c> (Npgsql's default,
/// 30 s, when it names none). Past it the request is answered as if the database were down, whether PostgreSQL
/// refused, reset, or silently hangs (a frozen server or a partition keeps Npgsql waiting far longer, its own
/// timeouts notwithstanding).
/// </summary>
public sealed class StorageDeadline(TimeSpan timeout)
{
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>The deadline in whole seconds, for a command that has no caller waiting and keeps Npgsql's own timeout.</summary>
    public int Seconds => (int)Math.Ceiling(Timeout.TotalSeconds);

    /// <summary>The deadline a connection string sets: its <c>Command Timeout</c>, 30 s when it names none or 0.</summary>
    public static TimeSpan Of(string connectionString) => TimeSpan.FromSeconds(
        new NpgsqlConnectionStringBuilder(connectionString).CommandTimeout is > 0 and var seconds ? seconds : 30);

    /// <summary>
    /// Runs <paramref name="work"/> with a token that is cancelled at the deadline (or when the caller leaves), and gives
    /// up on it at the deadline if it has not ended: then <see cref="StorageTimeoutException"/>. Work given up on is
    /// still awaited before the request ends (after its answer is sent), so that no pooled context or connection it holds
    /// goes back to a pool while in use; the answer closes its connection, so that the caller's next request is not
    /// queued behind it.
    /// </summary>
    public async Task<T> RunAsync<T>(HttpContext http, Func<CancellationToken, Task<T>> work, TimeSpan? extra = null)
    {
        var limit = Timeout + (extra ?? TimeSpan.Zero);
        var cancellation = new CancellationTokenSource();
        // On the thread pool, so that the deadline holds even when Npgsql blocks before its first await (opening a
        // connection, or waiting on a connector another thread is cancelling on).
        var running = Task.Run(() => work(cancellation.Token));
        try
        {
            var result = await running.WaitAsync(limit, http.RequestAborted);
            cancellation.Dispose();
            return result;
        }
        catch (Exception exception) when (!running.IsCompleted)
        {
            // Past the deadline, or the caller left: the work is cancelled aside and awaited after the answer.
            CancelAside(cancellation);
            GiveUp(http, running);
            if (exception is TimeoutException)
            {
                throw new StorageTimeoutException(limit);
            }
            throw;
        }
        catch
        {
            cancellation.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Cancels (and then disposes) <paramref name="cancellation"/> on a thread of its own. Cancelling makes Npgsql send
    /// PostgreSQL a cancel request and wait for it, synchronously: on a database that hangs, that blocks the cancelling
    /// thread for seconds. Done on the thread pool, a few such waits would starve it, and every timer (these deadlines
    /// included) would fire late; so they take turns on a few threads of their own.
    /// </summary>
    public static void CancelAside(CancellationTokenSource cancellation) => Cancellations.Add(cancellation);

    private static void GiveUp(HttpContext http, Task running)
    {        // (HTTP/2 and 3 run requests side by side on one connection: nothing queues behind this one.)
        // When the answer starts, so that an error answer written after the exception handler cleared this one closes it too.
        if (!http.Response.HasStarted && (HttpProtocol.IsHttp11(http.Request.Protocol) || HttpProtocol.IsHttp10(http.Request.Protocol)))
        {
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            });
        }
        http.Response.OnCompleted(async () =>
        {
            try
            {
                await running;
            }
            catch (Exception)
            {
                // Its outcome is nobody's any more; its caller was answered at the deadline.
            }
        });
    }

    private static readonly System.Collections.Concurrent.BlockingCollection<CancellationTokenSource> Cancellations = StartCanceller();

    /// <summary>Threads that cancel: each cancel request waits at most the connection string's <c>Cancellation Timeout</c>.</summary>
    private const int Cancellers = 4;

    private static System.Collections.Concurrent.BlockingCollection<CancellationTokenSource> StartCanceller()
    {
        var queue = new System.Collections.Concurrent.BlockingCollection<CancellationTokenSource>();
        for (var i = 0; i < Cancellers; i++)
        {
            StartCancellerThread(queue);
        }
        return queue;
    }

    private static void StartCancellerThread(System.Collections.Concurrent.BlockingCollection<CancellationTokenSource> queue) =>
        new Thread(() =>
        {
            foreach (var deadline in queue.GetConsumingEnumerable())
            {
                try
                {
                    deadline.Cancel();
                }
                catch (Exception)
                {
                    // A cancellation callback's failure ends nothing but that work.
                }
                finally
                {
                    deadline.Dispose();
                }
            }
        })
        { IsBackground = true, Name = "storage deadline cancellations" }.Start();
}

/// <summary>Storage work outlasted <see cref="StorageDeadline"/>: answered as an unavailable database (-4, 503).</summary>
public sealed class StorageTimeoutException(TimeSpan limit) : TimeoutException($"the database did not answer within {limit.TotalSeconds:0.#} s");
