using System.Net;
using System.Net.Sockets;

namespace WsGateway.Testing;

/// <summary>Probes of ports on 127.0.0.1, for tests that check what listens and what does not.</summary>
public static class LoopbackPorts
{
    /// <summary>Whether something accepts a TCP connection on 127.0.0.1:<paramref name="port"/> now.</summary>
    public static bool Accepts(int port)
    {
        using var probe = new TcpClient();
        try
        {
            probe.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
