using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>What a UserService call through ZITADEL's npm clients answered: the message as protojson, or the error the client saw.</summary>
public sealed record RpcAnswer(JsonElement? Ok, RpcFailure? Error, double Milliseconds)
{
    /// <summary>The answer, or a failed assertion that shows the error.</summary>
    public JsonElement Value => Ok ?? throw new Xunit.Sdk.XunitException($"the call failed: {Error}");
}

/// <summary>A client-side error: Connect's code name (<c>permission_denied</c>), the raw message, and the ZITADEL error details.</summary>
public sealed record RpcFailure(string Code, string Message, IReadOnlyList<(string Id, string Message)> Details)
{
    public override string ToString() => $"{Code}: {Message} [{string.Join(", ", Details.Select(d => d.Id))}]";
}

/// <summary>
/// ZITADEL's published npm clients (<c>@zitadel/client</c> 1.3.1, <c>@connectrpc/connect-*</c> 2.2.0, pinned in
/// tests/zitadel-clients/package-lock.json and installed there by scripts/test.sh), run by Node as
/// tests/zitadel-clients/driver.mjs: one JSON line per call in, one per answer out.
/// </summary>
public sealed class ZitadelClients : IAsyncDisposable
{
    /// <summary>The transports the driver knows, as SPEC §4.1 names them: gRPC (HTTP/2), gRPC-Web, Connect in JSON and in binary.</summary>
    public static readonly string[] Transports = ["grpc", "grpc-web", "connect", "connect-binary"];

    private static readonly string Directory = Repository.PathOf("tests/zitadel-clients");

    private readonly Process _node;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _next;

    private ZitadelClients(Process node)
    {
        _node = node;
        _node.OutputDataReceived += (_, line) => Receive(line.Data);
        _node.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                _errors.Enqueue(line.Data);
            }
        };
    }

    public static async Task<ZitadelClients> StartAsync()
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@zitadel", "client")))
        {
            throw new InvalidOperationException($"ZITADEL's npm clients are not installed in {Directory}: run ./scripts/test.sh (it runs npm ci there).");
        }
        var start = new ProcessStartInfo("node", ["driver.mjs"])
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var clients = new ZitadelClients(new Process { StartInfo = start });
        clients._node.Start();
        clients._node.BeginOutputReadLine();
        clients._node.BeginErrorReadLine();
        if (await Task.WhenAny(clients._ready.Task, Task.Delay(TimeSpan.FromSeconds(30))) != clients._ready.Task)
        {
            throw new TimeoutException("the npm client driver did not start: " + string.Join('\n', clients._errors));
        }
        return clients;
    }

    /// <summary>
    /// Calls <paramref name="method"/> (the client's name: <c>startIdentityProviderIntent</c>) over <paramref name="transport"/>
    /// at <paramref name="baseUrl"/>, with <paramref name="request"/> as protojson and the bearer token if one is given.
    /// </summary>
    public async Task<RpcAnswer> CallAsync(string transport, Uri baseUrl, string? token, string method, object request)
    {
        var id = Interlocked.Increment(ref _next);
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var command = JsonSerializer.Serialize(new { id, transport, baseUrl = baseUrl.ToString().TrimEnd('/'), token, method, request });
        await _writing.WaitAsync();
        try
        {
            await _node.StandardInput.WriteLineAsync(command);
            await _node.StandardInput.FlushAsync();
        }
        finally
        {
            _writing.Release();
        }
        if (await Task.WhenAny(answer.Task, Task.Delay(TimeSpan.FromSeconds(30))) != answer.Task)
        {
            throw new TimeoutException($"{transport} {method}: no answer within 30 s. {string.Join('\n', _errors)}");
        }
        var line = await answer.Task;
        var milliseconds = line["ms"]?.GetValue<double>() ?? 0;
        if (line["error"] is JsonObject error)
        {
            var details = (error["details"] as JsonArray ?? [])
                .Select(detail => (detail!["id"]?.GetValue<string>() ?? "", detail["message"]?.GetValue<string>() ?? ""))
                .ToList();
            return new RpcAnswer(null, new RpcFailure(error["code"]!.GetValue<string>(), error["message"]?.GetValue<string>() ?? "", details), milliseconds);
        }
        return new RpcAnswer(JsonSerializer.Deserialize<JsonElement>(line["ok"]!.ToJsonString()), null, milliseconds);
    }

    private void Receive(string? line)
    {
        if (string.IsNullOrWhiteSpace(line) || JsonNode.Parse(line) is not JsonObject answer)
        {
            return;
        }
        if (answer["ready"] is not null)
        {
            _ready.TrySetResult();
        }
        else if (answer["id"]?.GetValue<long>() is { } id && _pending.TryRemove(id, out var waiting))
        {
            waiting.TrySetResult(answer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_node.HasExited)
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }
        _node.Dispose();
        _writing.Dispose();
    }
}
