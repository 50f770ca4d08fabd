using System.Net.Sockets;

namespace WsGateway.Hosting;

/// <summary>The kernel's view of a TCP socket's state, for a connection the gateway is not reading.</summary>
internal static class TcpState
{
    // Linux <netinet/tcp.h>: getsockopt(IPPROTO_TCP, TCP_INFO) fills struct tcp_info, whose first byte is tcpi_state.
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const byte TcpClose = 7;     // after a reset
    private const byte TcpCloseWait = 8; // the peer's FIN arrived, our side is open

    /// <summary>Whether the peer has closed its side (FIN) or reset the connection, even with unread bytes queued.
    /// False where the kernel cannot say (not Linux, or the socket is gone).</summary>
    public static bool PeerHasClosed(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> info = stackalloc byte[8];
        try
        {
            return socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info) >= 1 && info[0] is TcpClose or TcpCloseWait;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }
}
