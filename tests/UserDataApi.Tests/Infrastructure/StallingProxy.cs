using System.Net;
using System.Net.Sockets;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a server, which can stop forwarding in both directions without closing
/// anything: a silent network partition, as a dropped route or a firewall that discards packets makes it.
/// </summary>
public sealed class StallingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _closing = new();
    private readonly List<TcpClient> _connections = [];
    private volatile TaskCompletionSource _flowing = Flowing();
    private readonly Task _accepting;

    public StallingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Stops moving bytes; connections stay open and new ones are accepted but get no answer.</summary>
    public void Stall() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Resume() => _flowing.TrySetResult();

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_closing.Token);
            }
            catch (Exception) when (_closing.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using var server = new TcpClient();
                lock (_connections)
                {
                    _connections.Add(client);
                    _connections.Add(server);
                }
                try
                {
                    await _flowing.Task.WaitAsync(_closing.Token);
                    await server.ConnectAsync(IPAddress.Loopback, _targetPort, _closing.Token);
                    await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream()), PumpAsync(server.GetStream(), client.GetStream()));
                }
                catch (Exception)
                {
                    // A closed side ends the pair.
                }
                finally
                {
                    client.Dispose();
                }
            });
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, _closing.Token);
            if (read == 0)
            {
                return;
            }
            // Bytes read while stalled are held back (the sender's TCP sees them taken, as a lossy path would not tell).
            await _flowing.Task.WaitAsync(_closing.Token);
            await to.WriteAsync(buffer.AsMemory(0, read), _closing.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _closing.Cancel();
        _listener.Stop();
        lock (_connections)
        {
            _connections.ForEach(connection => connection.Dispose());
        }
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
