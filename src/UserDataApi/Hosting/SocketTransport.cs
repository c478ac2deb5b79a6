namespace UserDataApi.Hosting;

/// <summary>How Kestrel's sockets hand a request to the server's code.</summary>
public static class SocketTransport
{
    /// <summary>
    /// A connection's reads and writes continue on the thread-pool thread that completed the socket operation, rather
    /// than being queued again to one of Kestrel's I/O queues: one thread hop less per request and per answer. That
    /// thread is a thread-pool thread like any other (the runtime's socket threads only dispatch, since
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> is not set: see README, Performance), so nothing that may block
    /// runs on them.
    /// </summary>
    public static WebApplicationBuilder AddSocketTransport(this WebApplicationBuilder builder)
    {
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        return builder;
    }
}
