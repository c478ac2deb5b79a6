using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>Kestrel skips its I/O queues unless the runtime's socket threads complete sockets themselves.</summary>
public sealed class SocketTransportTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("0", true)]
    [InlineData("1", false)]
    public void Kestrel_prefers_inline_scheduling_only_while_the_socket_threads_only_dispatch(string? inlineCompletions, bool inline) =>
        Assert.Equal(inline, SocketTransport.PrefersInline(inlineCompletions));

    [Fact]
    public void The_server_configures_its_sockets_so()
    {
        var sockets = fixture.Api.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        var expected = SocketTransport.PrefersInline(Environment.GetEnvironmentVariable(SocketTransport.InlineCompletionsVariable));
        Assert.Equal(expected, sockets.UnsafePreferInlineScheduling);
    }
}
