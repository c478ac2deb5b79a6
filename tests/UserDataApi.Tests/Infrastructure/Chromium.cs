using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package, installed by scripts/test.sh) with one page,
/// driven over the Chrome DevTools Protocol: navigate, run script in the page, type as a keyboard does.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    private const string ExecutableVariable = "CHROMIUM";
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private int _lastId;
    private string? _session;

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        var executable = Environment.GetEnvironmentVariable(ExecutableVariable) ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"No Chromium at {executable}: run ./scripts/test.sh (it installs Debian's chromium) or set {ExecutableVariable}.");
        }
        var profile = Directory.CreateTempSubdirectory("userdataapi-chromium-").FullName;
        var start = new ProcessStartInfo(executable,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1280,2000", "about:blank",
        ])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(start)!;
        var browser = new Chromium(process, profile);
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data?.StartsWith("DevTools listening on ", StringComparison.Ordinal) == true)
            {
                endpoint.TrySetResult(line.Data["DevTools listening on ".Length..].Trim());
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await browser._socket.ConnectAsync(new Uri(await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(30))), CancellationToken.None);
            browser._receiving = browser.ReceiveAsync();
            var target = await browser.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
            var attached = await browser.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true });
            browser._session = attached.GetProperty("sessionId").GetString();
            await browser.SendAsync("Page.enable");
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });

    /// <summary>Runs script in the page and returns its (JSON) value; a thrown error fails the test with its text.</summary>
    public async Task<JsonElement> EvaluateAsync(string script)
    {
        var answer = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = script, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (answer.TryGetProperty("exceptionDetails", out var error))
        {
            throw new InvalidOperationException($"Script failed: {error}\n{script}");
        }
        return answer.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Waits until the script's value is truthy (not null, false, 0 or empty) and returns it.</summary>
    public async Task<JsonElement> WaitForAsync(string script, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await EvaluateAsync(script);
            var truthy = value.ValueKind switch
            {
                JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False => false,
                JsonValueKind.String => value.GetString()!.Length > 0,
                JsonValueKind.Number => value.GetDouble() != 0,
                _ => true,
            };
            if (truthy)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                var page = await EvaluateAsync("document.body ? document.body.innerText : ''");
                throw new TimeoutException($"Still false after {timeout}: {script}\nThe page says:\n{page}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Types text into the focused element as a keyboard would, so that the page's own input handlers see it.</summary>
    public Task TypeAsync(string text) => SendAsync("Input.insertText", new JsonObject { ["text"] = text });

    private async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _lastId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (_session is not null)
        {
            message["sessionId"] = _session;
        }
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var part = await _socket.ReceiveAsync(buffer, _closing.Token);
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage)
                {
                    continue;
                }
                var root = JsonDocument.Parse(message.ToArray()).RootElement;
                message.SetLength(0);
                // Answers carry the id of their command; events (no id) are not needed here.
                if (root.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var answer))
                {
                    if (root.TryGetProperty("error", out var error))
                    {
                        answer.SetException(new InvalidOperationException($"DevTools: {error}"));
                    }
                    else
                    {
                        answer.SetResult(root.GetProperty("result").Clone());
                    }
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _receiving;
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _closing.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
