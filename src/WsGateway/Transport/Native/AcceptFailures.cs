using System.Buffers;
using System.Diagnostics;
using WsGateway.Connections;
using WsGateway.Connections.Handshake;

namespace WsGateway.Transport.Native;

/// <summary>
/// What the accepting loop does when <c>accept4</c> fails for want of a descriptor or of kernel memory (loop thread
/// only). It keeps one descriptor in reserve (libuv's trick: <c>/dev/null</c>, opened at start). Out of descriptors
/// (<c>EMFILE</c>, <c>ENFILE</c>), it lets go of the spare, accepts each connection waiting in the listen backlog,
/// answers it 503 and closes it, then takes the spare back: clients get a clean refusal instead of waiting in the
/// backlog, and the listener stops being readable, so the loop does not spin. When that cannot be done (no spare; out
/// of memory: <c>ENOBUFS</c>, <c>ENOMEM</c>) the caller stops watching the listeners for a while. Either way an episode
/// is logged once when it begins and once when an accept succeeds again, with the number of clients refused.
/// </summary>
internal sealed class AcceptFailures
{
    /// <summary>Most backlogged connections refused per wake: the loop's other connections get their turn.</summary>
    private const int MaxRefusedPerWake = 1024;

    private readonly ConnectionManager _manager;
    private readonly byte[] _refusal;
    private readonly int _loop;
    private int _spare = -1;
    private long _failingSince;
    private long _lastFailure;
    private long _refused;

    public AcceptFailures(ConnectionManager manager, int loop)
    {
        _manager = manager;
        _loop = loop;

        // Made now, while descriptors are available: out of them, even loading the assembly that writes it fails.
        var response = new ArrayBufferWriter<byte>(256);
        HandshakeResponse.WriteError(response, 503, Reason);
        _refusal = response.WrittenSpan.ToArray();
    }

    /// <summary>The reason the 503 gives.</summary>
    internal const string Reason = "Out of file descriptors: the gateway cannot take more connections now; try again later";

    /// <summary>Whether a spare descriptor is held.</summary>
    public bool HoldsSpare => _spare >= 0;

    /// <summary>Takes the spare descriptor (at start).</summary>
    public void Open() => _spare = Libc.OpenSpare();

    /// <summary>Gives the spare descriptor back (at stop).</summary>
    public void Close()
    {
        if (_spare >= 0)
        {
            _ = Libc.close(_spare);
            _spare = -1;
        }
    }

    /// <summary>An accept succeeded: ends an episode of failures when the last one is a second old (so that a limit
    /// hit again and again makes one episode), and takes the spare again if it was lost.</summary>
    public void OnAccepted()
    {
        if (_failingSince != 0 && Stopwatch.GetElapsedTime(_lastFailure) > TimeSpan.FromSeconds(1))
        {
            Log.AcceptRecovered(_manager.Logger, _loop, Stopwatch.GetElapsedTime(_failingSince).TotalSeconds, _refused);
            _failingSince = 0;
            _refused = 0;
        }

        if (_spare < 0)
        {
            _spare = Libc.OpenSpare();
        }
    }

    /// <summary><c>accept4</c> on <paramref name="listener"/> failed with <paramref name="errno"/> (one of
    /// <c>EMFILE</c>, <c>ENFILE</c>, <c>ENOBUFS</c>, <c>ENOMEM</c>).</summary>
    /// <returns>True when the backlog was refused and the spare taken back (keep watching the listener); false when
    /// the caller must stop watching the listeners for a while.</returns>
    public bool OnFailed(int listener, int errno)
    {
        bool outOfDescriptors = errno is Libc.EMFILE or Libc.ENFILE;
        if (outOfDescriptors && _spare < 0)
        {
            _spare = Libc.OpenSpare();
        }

        bool canRefuse = outOfDescriptors && _spare >= 0;
        _lastFailure = Stopwatch.GetTimestamp();
        if (_failingSince == 0)
        {
            _failingSince = _lastFailure;
            Log.AcceptFailing(_manager.Logger, _loop, Libc.Error("accept4", errno).Message, canRefuse
                ? "each new connection is accepted on a spare descriptor, answered 503 and closed"
                : "the listeners are left alone for 100 ms at a time (clients wait in the listen backlog)");
        }

        if (!canRefuse)
        {
            return false;
        }

        _ = Libc.close(_spare);
        _spare = -1;
        for (int i = 0; i < MaxRefusedPerWake; i++)
        {
            int fd = Libc.Accept(listener, [], out _);
            if (fd < 0)
            {
                break; // the backlog is empty, or another thread took the descriptor meanwhile
            }

            Libc.SendAndClose(fd, _refusal);
            _refused++;
            _manager.Metrics.ConnectionRejected(503);
        }

        _spare = Libc.OpenSpare();
        return _spare >= 0;
    }
}
