using System.Diagnostics;
using System.Net;
using WsGateway.Connections;

namespace WsGateway.Transport.Native;

/// <summary>
/// Accepting and placement, for the first <see cref="EventLoop"/> (its thread only): the listening sockets are in that
/// loop's epoll set, and each connection accepted goes to the loop with the fewest (<see cref="NativeTransport.LeastLoaded"/>).
/// When accepting fails for want of descriptors or memory, <see cref="AcceptFailures"/> answers the backlog, or the
/// listeners leave the epoll set for a while.
/// </summary>
internal sealed class Acceptor
{
    private const int AcceptsPerWake = 128;
    private const int MaxListeners = 64;
    private const int AddressSize = 128; // a sockaddr_storage: any address fits
    private const ulong ListenerTagBase = ulong.MaxValue - 1; // listener i is ListenerTagBase - i

    private readonly EventLoop _loop;
    private readonly NativeTransport _transport;
    private readonly AcceptFailures _failures;
    private int _epfd = -1;

    // Listeners taken out of epoll after an accept failure that could not be answered, and when to add them back.
    private long _resumeAt;
    private bool _paused;

    public Acceptor(EventLoop loop, NativeTransport transport, ConnectionManager manager, int index)
    {
        _loop = loop;
        _transport = transport;
        _failures = new AcceptFailures(manager, index);
    }

    /// <summary>When the listeners, paused, are to be watched again (a <see cref="Stopwatch"/> timestamp), or null
    /// when they are watched.</summary>
    public long? ResumeAt => _paused ? _resumeAt : null;

    /// <summary>Whether <paramref name="tag"/> is a listener's epoll tag, and which.</summary>
    public static bool IsListenerTag(ulong tag, out int listener)
    {
        bool isListener = tag <= ListenerTagBase && tag > ListenerTagBase - MaxListeners;
        listener = isListener ? (int)(ListenerTagBase - tag) : -1;
        return isListener;
    }

    /// <summary>Takes the spare descriptor and adds the listeners to <paramref name="epfd"/>'s set.</summary>
    public void Start(int epfd)
    {
        _epfd = epfd;
        _failures.Open();
        AddListeners();
    }

    /// <summary>Gives the spare descriptor back (the loop is stopping).</summary>
    public void Close() => _failures.Close();

    /// <summary>Watches the listeners again once a pause is over (<paramref name="now"/>: a <see cref="Stopwatch"/>
    /// timestamp).</summary>
    public void ResumeIfDue(long now)
    {
        if (_paused && now >= _resumeAt)
        {
            _paused = false;
            AddListeners();
        }
    }

    /// <summary>epoll reported <paramref name="listener"/> readable: accepts what waits (up to a bound, so that the
    /// loop's connections have their turn) and places each connection on a loop.</summary>
    public void Accept(int listener)
    {
        if (_paused)
        {
            return;
        }

        int fd0 = _transport.ListenerDescriptors[listener];
        Span<byte> address = stackalloc byte[AddressSize];
        for (int i = 0; i < AcceptsPerWake; i++)
        {
            int fd = Libc.Accept(fd0, address, out int length);
            if (fd < 0)
            {
                int errno = -fd;
                if (errno is (Libc.EMFILE or Libc.ENFILE or Libc.ENOBUFS or Libc.ENOMEM) && !_failures.OnFailed(fd0, errno))
                {
                    PauseAccepting();
                }

                return; // EAGAIN: nothing more; ECONNABORTED and the like: the client left
            }

            _failures.OnAccepted();

            Libc.SetNoDelay(fd);
            IPEndPoint? remote = NativeConnection.ParseAddress(address[..length]);
            IPEndPoint local = _transport.ListenerEndPoints[listener];
            EventLoop owner = _transport.LeastLoaded(_loop);
            if (owner == _loop)
            {
                _loop.OnAccepted(fd, remote, local);
            }
            else
            {
                owner.Adopt(fd, remote, local);
            }
        }
    }

    private void AddListeners()
    {
        int[] listeners = _transport.ListenerDescriptors;
        for (int i = 0; i < listeners.Length && i < MaxListeners; i++)
        {
            int result = Libc.EpollAdd(_epfd, listeners[i], Libc.EPOLLIN, ListenerTagBase - (ulong)i);
            if (result < 0)
            {
                throw Libc.Error("epoll_ctl(listener)", -result);
            }
        }
    }

    /// <summary>An accept failure that could not be answered (<see cref="AcceptFailures"/>): the listeners leave the
    /// epoll set for 100 ms, so that a listener that stays readable does not make the loop spin.</summary>
    private void PauseAccepting()
    {
        foreach (int fd in _transport.ListenerDescriptors)
        {
            _ = Libc.EpollDelete(_epfd, fd);
        }

        _paused = true;
        _resumeAt = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
    }
}
