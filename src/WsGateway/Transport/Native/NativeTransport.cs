using System.Net;
using System.Net.Sockets;
using WsGateway.Connections;

namespace WsGateway.Transport.Native;

/// <summary>
/// The gateway's own Linux transport: N <see cref="EventLoop"/>s, each a thread that owns its connections; the first
/// accepts from the listening sockets and hands each new one to the loop with the fewest. Used by <see cref="WebSocketServer"/> for <c>ws://</c> when
/// <see cref="TradeGatewayOptions.Transport"/> allows it; <c>wss://</c> and ASP.NET Core hosting stay on Kestrel.
/// </summary>
internal sealed class NativeTransport
{
    private readonly ConnectionManager _manager;
    private readonly List<Socket> _listeners = [];
    private EventLoop[] _loops = [];

    public NativeTransport(ConnectionManager manager) => _manager = manager;

    /// <summary>Whether this machine can run it: Linux (x86-64, ARM64) with glibc.</summary>
    public static bool IsSupported => Libc.IsAvailable;

    /// <summary>The listening sockets' descriptors, in listener order.</summary>
    public int[] ListenerDescriptors { get; private set; } = [];

    /// <summary>The listening sockets' bound addresses, in listener order.</summary>
    public IPEndPoint[] ListenerEndPoints { get; private set; } = [];

    /// <summary>The number of event loops running.</summary>
    public int LoopCount => _loops.Length;

    /// <summary>The loop a new connection goes to: the one with the fewest, the accepting loop on a tie.</summary>
    public EventLoop LeastLoaded(EventLoop accepting)
    {
        EventLoop best = accepting;
        int fewest = accepting.Count + accepting.Incoming;
        foreach (EventLoop loop in _loops)
        {
            int count = loop.Count + loop.Incoming;
            if (count < fewest)
            {
                best = loop;
                fewest = count;
            }
        }

        return best;
    }

    /// <summary>Connections per loop (tests, diagnostics).</summary>
    public int[] ConnectionsPerLoop()
    {
        int[] counts = new int[_loops.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = _loops[i].Count;
        }

        return counts;
    }

    /// <summary>Binds <paramref name="endPoints"/> (a port 0 is chosen by the first and reused by the others) and
    /// starts <paramref name="loops"/> event loops.</summary>
    public void Start(IReadOnlyList<IPEndPoint> endPoints, int loops)
    {
        try
        {
            int port = 0;
            foreach (IPEndPoint requested in endPoints)
            {
                var endPoint = requested.Port == 0 && port != 0 ? new IPEndPoint(requested.Address, port) : requested;
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
                    {
                        socket.DualMode = false;
                    }

                    // SO_REUSEADDR alone: a restart binds while the old connections are in TIME_WAIT. .NET's
                    // ReuseAddress option would add SO_REUSEPORT on Linux, and with it a second gateway (or any
                    // program of the same user) could bind this port too and silently take a share of the clients.
                    socket.SetRawSocketOption(Libc.SOL_SOCKET, Libc.SO_REUSEADDR, BitConverter.GetBytes(1));
                    socket.Bind(endPoint);
                    socket.Listen(4096); // the kernel caps it at net.core.somaxconn
                    socket.Blocking = false;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }

                _listeners.Add(socket);
                port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            }

            ListenerDescriptors = [.. _listeners.Select(s => (int)s.Handle)];
            ListenerEndPoints = [.. _listeners.Select(s => (IPEndPoint)s.LocalEndPoint!)];
            _loops = new EventLoop[loops];
            for (int i = 0; i < loops; i++)
            {
                _loops[i] = new EventLoop(this, _manager, i, _manager.HeartbeatPeriod);
                _loops[i].Start();
            }
        }
        catch
        {
            Stop();
            throw;
        }
    }

    /// <summary>Stops the loops (closing the sockets still open) and the listeners.</summary>
    public void Stop()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Stop();
        }

        foreach (Socket socket in _listeners)
        {
            socket.Dispose();
        }

        _listeners.Clear();
    }
}
