using System.Net;
using System.Net.Sockets;
using WsGateway.Transport.Native;

namespace WsGateway.Tests.Hosting;

/// <summary>
/// The native transport's system calls through <see cref="Libc"/>'s safe wrappers: <c>struct epoll_event</c> read
/// right on this machine's architecture (packed on x86-64), and the results of <c>recv</c>, <c>send</c> and
/// <c>accept4</c> (a count, 0 at the end, <see cref="Libc.WouldBlock"/>). Linux only: elsewhere there is nothing to call.
/// </summary>
public sealed class NativeLibcTests
{
    [Fact]
    public void Epoll_events_come_back_with_their_flags_and_tags()
    {
        if (!Libc.IsAvailable)
        {
            return;
        }

        int epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        int a = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        int b = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        try
        {
            Assert.True(epfd >= 0 && a >= 0 && b >= 0);
            Assert.Equal(0, Libc.EpollAdd(epfd, a, Libc.EPOLLIN, 0x1234_5678_9ABC_DEF0));
            Assert.Equal(0, Libc.EpollAdd(epfd, b, Libc.EPOLLIN, ulong.MaxValue - 7));
            var events = new EpollEvent[4];
            Assert.Equal(0, Libc.EpollWait(epfd, events, 0)); // nothing yet

            Libc.Signal(a);
            Libc.Signal(b);
            int n = Libc.EpollWait(epfd, events, 1000);

            Assert.Equal(2, n);
            Assert.All(events[..n], e => Assert.Equal(Libc.EPOLLIN, e.Events));
            Assert.Equal([0x1234_5678_9ABC_DEF0, ulong.MaxValue - 7], events[..n].Select(e => e.Data).Order().ToArray());

            Libc.Drain(a);
            Libc.Drain(b);
            Assert.Equal(0, Libc.EpollWait(epfd, events, 0));
            Assert.Equal(0, Libc.EpollDelete(epfd, a));
            Assert.True(Libc.EpollDelete(epfd, a) < 0); // not in the set any more: -ENOENT
        }
        finally
        {
            _ = Libc.close(a);
            _ = Libc.close(b);
            _ = Libc.close(epfd);
        }
    }

    [Fact]
    public async Task Accept_recv_and_send_report_bytes_the_end_and_would_block()
    {
        if (!Libc.IsAvailable)
        {
            return;
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        listener.Blocking = false;
        byte[] address = new byte[128];
        Assert.Equal(Libc.WouldBlock, Libc.Accept((int)listener.Handle, address, out _));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        int fd = -1;
        int length = 0;
        for (int i = 0; i < 100 && fd < 0; i++)
        {
            fd = Libc.Accept((int)listener.Handle, address, out length);
            if (fd == Libc.WouldBlock)
            {
                await Task.Delay(10);
            }
        }

        try
        {
            Assert.True(fd >= 0, $"accept: {fd}");
            Assert.Equal(client.LocalEndPoint, NativeConnection.ParseAddress(address.AsSpan(0, length)));
            Libc.SetNoDelay(fd);

            byte[] buffer = new byte[64];
            Assert.Equal(Libc.WouldBlock, Libc.Recv(fd, buffer)); // nothing sent yet

            Assert.Equal(5, Libc.Send(fd, "hello"u8));
            byte[] received = new byte[5];
            Assert.Equal(5, await client.ReceiveAsync(received, SocketFlags.None));
            Assert.Equal("hello"u8.ToArray(), received);

            await client.SendAsync("bye"u8.ToArray(), SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(3, await RecvWhenReady(fd, buffer));
            Assert.Equal("bye"u8.ToArray(), buffer[..3]);
            Assert.Equal(0, await RecvWhenReady(fd, buffer)); // the client's FIN
        }
        finally
        {
            if (fd >= 0)
            {
                _ = Libc.close(fd);
            }
        }
    }

    private static async Task<nint> RecvWhenReady(int fd, byte[] buffer)
    {
        nint n = Libc.WouldBlock;
        for (int i = 0; i < 500 && n == Libc.WouldBlock; i++)
        {
            n = Libc.Recv(fd, buffer);
            if (n == Libc.WouldBlock)
            {
                await Task.Delay(10);
            }
        }

        return n;
    }
}
