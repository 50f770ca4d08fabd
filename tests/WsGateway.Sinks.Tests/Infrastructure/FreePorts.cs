using System.Net;
using System.Net.Sockets;

namespace WsGateway.Sinks.Tests.Infrastructure;

/// <summary>Ports free on 127.0.0.1 right now (for servers that must be restarted on the same port).</summary>
internal static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = new TcpListener[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                listeners[i] = new TcpListener(IPAddress.Loopback, 0);
                listeners[i].Start();
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener? listener in listeners)
            {
                listener?.Stop();
            }
        }
    }
}
