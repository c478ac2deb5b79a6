namespace UserDataApi.Hosting;

/// <summary>How Kestrel's sockets hand a request to the server's code.</summary>
public static class SocketTransport
{
    /// <summary>
    /// A connection's reads and writes continue on the thread-pool thread that completed the socket operation, rather
    /// than being queued again to one of Kestrel's I/O queues: one thread hop less per request and per answer. That
    /// thread is a thread-pool thread like any other, as long as the runtime's socket threads only dispatch. An operator
    /// who sets <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> (see README, Performance) makes them complete sockets
    /// themselves: then every request would run on those few threads, so Kestrel keeps its queues.
    /// </summary>
    public static WebApplicationBuilder AddSocketTransport(this WebApplicationBuilder builder)
    {
        var inline = PrefersInline(Environment.GetEnvironmentVariable(InlineCompletionsVariable));
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        return builder;
    }

    /// <summary>The runtime's switch for completing sockets on its socket threads (on when it is <c>1</c>).</summary>
    internal const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Whether Kestrel may skip its queues, given <see cref="InlineCompletionsVariable"/>'s value.</summary>
    internal static bool PrefersInline(string? inlineCompletions) => inlineCompletions != "1";
}
