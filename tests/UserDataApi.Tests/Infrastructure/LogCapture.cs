using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>One captured log line: everything a log sink could write, rendered to text.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, string?> Properties, string? Exception)
{
    public override string ToString() =>
        $"{Level} {Category}: {Message} {string.Join(' ', Properties.Select(p => $"{p.Key}={p.Value}"))} {Exception}";
}

/// <summary>
/// A logger provider that keeps every line, at every level, with its structured properties and the
/// properties of its scopes (request id, trace id), so that a test can search all of it.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<CapturedLog> Lines => _lines;

    /// <summary>All lines as one text.</summary>
    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = new Dictionary<string, string?>();
            AddProperties(properties, state);
            capture._scopes.ForEachScope((scope, all) => AddProperties(all, scope), properties);
            capture._lines.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), properties, exception?.ToString()));
        }

        private static void AddProperties(Dictionary<string, string?> properties, object? state)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    properties[key] = value?.ToString();
                }
            }
            else if (state is not null)
            {
                properties[$"scope{properties.Count}"] = state.ToString();
            }
        }
    }
}
