using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using WsGateway.Hosting;

namespace WsGateway.Tests.Hosting;

/// <summary>Issue 17, finding 2, on the Kestrel transport: <see cref="BoundedListenerFactory"/> keeps Kestrel's socket
/// transport to a number of open client sockets (what the descriptor limit leaves), over Kestrel's real listener.</summary>
public sealed class BoundedListenerTests
{
    [Fact]
    public async Task At_the_bound_the_next_accept_waits_until_a_socket_has_closed_and_the_episode_is_logged_once()
    {
        var logger = new FakeLogger();
        var factory = new BoundedListenerFactory(new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance), maxSockets: 2, logger);
        await using IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using Socket a = await ConnectAsync(listener.EndPoint);
        using Socket b = await ConnectAsync(listener.EndPoint);
        using Socket c = await ConnectAsync(listener.EndPoint);
        using Socket d = await ConnectAsync(listener.EndPoint);

        ConnectionContext first = (await listener.AcceptAsync())!;
        ConnectionContext second = (await listener.AcceptAsync())!;
        ValueTask<ConnectionContext?> third = listener.AcceptAsync();
        await Task.Delay(300);
        Assert.False(third.IsCompleted, "a third socket was accepted with two open and a bound of two");
        Assert.Equal(LogLevel.Warning, Assert.Single(logger.Collector.GetSnapshot()).Level);
        Assert.Contains("2 client sockets are open", logger.Collector.LatestRecord.Message, StringComparison.Ordinal);

        await first.DisposeAsync(); // Kestrel closes the socket, then signals ConnectionClosed
        ConnectionContext thirdConnection = (await third.AsTask().WaitAsync(TimeSpan.FromSeconds(10)))!;
        Assert.NotNull(thirdConnection);

        // Still two open: the fourth waits too, without a second warning, and an unbind ends the wait (shutdown).
        ValueTask<ConnectionContext?> fourth = listener.AcceptAsync();
        await Task.Delay(300);
        Assert.False(fourth.IsCompleted);
        Assert.Single(logger.Collector.GetSnapshot());
        await listener.UnbindAsync();
        Assert.Null(await fourth.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        await second.DisposeAsync();
        await thirdConnection.DisposeAsync();
    }

    private static async Task<Socket> ConnectAsync(EndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return socket;
    }
}
