using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP collector on 127.0.0.1 that keeps what it is sent, per signal path (<c>/v1/traces</c>,
/// <c>/v1/metrics</c>, <c>/v1/logs</c>). Protobuf writes names as plain UTF-8, so the payloads can be
/// searched as text for instrument, scope and span names.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _received = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpReceiver> StartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver._received.GetOrAdd(signal, _ => new ConcurrentQueue<byte[]>()).Enqueue(body.ToArray());
            return Results.Ok();
        });
        receiver.Endpoint = await LoopbackApp.StartAsync(app);
        return receiver;
    }

    /// <summary>Everything received for one signal (<c>traces</c>, <c>metrics</c>, <c>logs</c>) as one text.</summary>
    public string Received(string signal) =>
        _received.TryGetValue(signal, out var payloads) ? string.Join('\n', payloads.Select(p => Encoding.UTF8.GetString(p))) : "";

    /// <summary>Waits until a signal's payloads hold every one of these texts; returns them as one text either way.</summary>
    public async Task<string> WaitForAsync(string signal, string[] texts, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!texts.All(Received(signal).Contains) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        return Received(signal);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
