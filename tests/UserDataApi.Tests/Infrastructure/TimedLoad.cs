using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>One answer of a <see cref="TimedLoad"/>: the call, its outcome (a result code, an HTTP status, or an exception's name), and when.</summary>
public sealed record TimedAnswer(string Kind, string UserId, string Key, string? Value, string Outcome, TimeSpan Started, TimeSpan Ended, DateTime AnsweredAt)
{
    public TimeSpan Took => Ended - Started;
}

/// <summary>
/// Callers that each repeat their calls until stopped, every answer kept with when it was asked and answered, for tests
/// that take a part of the system away under load. Users are <c>{RunId}-…</c>, so that their records can be found.
/// </summary>
public sealed class TimedLoad(HttpClient http, Stopwatch clock)
{
    private readonly ConcurrentQueue<TimedAnswer> _answers = new();
    private volatile bool _stopping;
    private Task _loops = Task.CompletedTask;

    public string RunId { get; } = "load-" + Guid.NewGuid().ToString("N");

    public bool Stopping => _stopping;

    public IEnumerable<TimedAnswer> Answers => _answers;

    /// <summary>Starts one caller per function; each runs until <see cref="StopAsync"/>.</summary>
    public TimedLoad Start(params Func<TimedLoad, Task>[] callers)
    {
        _loops = Task.WhenAll(callers.Select(caller => Task.Run(() => caller(this))));
        return this;
    }

    /// <summary>Lets every caller finish its call in flight, then returns all answers.</summary>
    public async Task<IReadOnlyList<TimedAnswer>> StopAsync()
    {
        _stopping = true;
        await _loops;
        return [.. _answers];
    }

    /// <summary>A caller that sets a new by-idp key and reads it back, over and over, as user <c>{RunId}-{name}</c>.</summary>
    public async Task SetAndGetAsync(string name, string token)
    {
        var userId = $"{RunId}-{name}";
        for (var n = 0; !_stopping; n++)
        {
            var key = $"k{n}";
            var value = $"{userId}-{n}";
            await TimedAsync("set", userId, key, value, () => UserDataAsync("by-idp/set", new { identity_provider = "telegram", value_key = key, value_data = value }, token));
            await TimedAsync("get", userId, key, null, () => UserDataAsync("by-idp/get", new { identity_provider = "telegram", value_keys = new[] { key } }, token));
        }
    }

    /// <summary>A caller that makes one kind of call over and over.</summary>
    public async Task RepeatAsync(string kind, Func<Task<string>> call)
    {
        while (!_stopping)
        {
            await TimedAsync(kind, "", "", null, call);
        }
    }

    /// <summary>When the first call of <paramref name="kind"/> asked after <paramref name="after"/> answered 0.</summary>
    public async Task<TimeSpan> FirstSuccessAfterAsync(string kind, TimeSpan after, TimeSpan timeout)
    {
        var deadline = clock.Elapsed + timeout;
        while (clock.Elapsed < deadline)
        {
            var first = _answers.Where(a => a.Kind == kind && a.Started >= after && a.Outcome == "0").Select(a => a.Ended).DefaultIfEmpty(TimeSpan.MaxValue).Min();
            if (first != TimeSpan.MaxValue)
            {
                return first;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"No {kind} answered 0 within {timeout} after {after}.");
    }

    private async Task TimedAsync(string kind, string userId, string key, string? value, Func<Task<string>> call)
    {
        var started = clock.Elapsed;
        string outcome;
        try
        {
            outcome = await call();
        }
        catch (Exception exception)
        {
            outcome = exception.GetType().Name;
        }
        _answers.Enqueue(new TimedAnswer(kind, userId, key, value, outcome, started, clock.Elapsed, DateTime.UtcNow));
    }

    /// <summary>A user-data call's result code, or <c>HTTP {status}</c> when it was not answered 200.</summary>
    public async Task<string> UserDataAsync(string path, object body, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/user-data/" + path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.GetProperty("result").GetInt32().ToString() : $"HTTP {(int)response.StatusCode}";
    }

    /// <summary>Any call's HTTP status (a POST sends <c>{}</c>).</summary>
    public async Task<string> StatusAsync(HttpMethod method, string path, string? token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode).ToString();
    }

    /// <summary>The by-idp records of the load's users, straight from the database: value and when it was last written.</summary>
    public async Task<Dictionary<(string UserId, string Key), (string Value, DateTime WrittenAt)>> StoredAsync(string connectionString)
    {
        var stored = new Dictionary<(string, string), (string, DateTime)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT user_id, value_key, value_data, updated_at FROM user_data_records WHERE user_id LIKE $1 AND family = 0", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = RunId + "-%" });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            stored[(reader.GetString(0), reader.GetString(1))] = (reader.GetString(2), reader.GetDateTime(3));
        }
        return stored;
    }
}
