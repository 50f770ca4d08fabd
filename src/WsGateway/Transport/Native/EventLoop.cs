using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using WsGateway.Connections;

namespace WsGateway.Transport.Native;

/// <summary>
/// One event loop of the native transport: a dedicated thread over its own epoll instance, which owns the connections
/// given to it (no lock between loops), reads every socket into one receive buffer, runs the connection core — and so
/// the handler — inline on its thread, and drives the connections' timeouts from its wait timeout: no shared timer
/// thread. The first loop also accepts (its <see cref="Acceptor"/>), and hands each new socket to the loop with the
/// fewest connections. The connections are found by their epoll tag in the loop's <see cref="ConnectionSlots{T}"/>.
/// </summary>
internal sealed class EventLoop
{
    /// <summary>Size of the loop's receive buffer, which every read of every connection of the loop goes into.</summary>
    internal const int ReceiveBufferSize = 512 * 1024;

    private const int MaxEvents = 512;
    private const ulong WakeTag = ulong.MaxValue;

    // _state: running, then stopping (asked to end), then stopped: the thread has closed every socket and ended, and
    // nothing of the loop is in use any more, so an operation posted later (a read of a connection the shutdown timed
    // out) runs on the poster's thread and sees the end.
    private const int Running = 0;
    private const int Stopping = 1;
    private const int Stopped = 2;

    private readonly ConnectionManager _manager;
    private readonly int _index;
    private readonly ConcurrentQueue<(NativeConnection Connection, LoopOp Op)> _posted = new();
    private readonly ConcurrentQueue<(int Fd, IPEndPoint? Remote, IPEndPoint Local)> _adopted = new();
    private readonly ConnectionSlots<NativeConnection> _connections = new();
    private readonly Acceptor? _acceptor; // loop 0 only
    private readonly long _tickTicks;
    private Thread? _thread;
    private int _epfd = -1;
    private int _wakefd = -1;
    private int _wakeRequested;
    private int _state;
    private int _incoming;

    // Connections that stopped reading at their budget and wait for their next turn.
    private List<NativeConnection> _ready = new();
    private List<NativeConnection> _readyTurn = new();

    public EventLoop(NativeTransport transport, ConnectionManager manager, int index, TimeSpan tick)
    {
        _manager = manager;
        _index = index;
        _tickTicks = (long)(tick.TotalSeconds * Stopwatch.Frequency);
        _acceptor = index == 0 ? new Acceptor(this, transport, manager, index) : null;
        ReceiveBuffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
    }

    /// <summary>The buffer every read of this loop goes into; valid for a connection until it advances its reader.</summary>
    public byte[] ReceiveBuffer { get; }

    /// <summary>Whether the caller is the loop's thread, or the loop has ended (its sockets closed, its buffer no longer
    /// read): then the caller is the only one left to finish a connection's reads.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread || Volatile.Read(ref _state) == Stopped;

    /// <summary>Connections the loop owns.</summary>
    public int Count => _connections.Count;

    /// <summary>Sockets handed to this loop that it has not taken yet.</summary>
    public int Incoming => Volatile.Read(ref _incoming);

    /// <summary>Creates the epoll instance and the wake-up descriptor, registers the listeners (first loop) and starts
    /// the thread.</summary>
    public void Start()
    {
        _epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw Libc.Error("epoll_create1", Marshal.GetLastPInvokeError());
        }

        _wakefd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_wakefd < 0)
        {
            throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
        }

        int added = Libc.EpollAdd(_epfd, _wakefd, Libc.EPOLLIN, WakeTag);
        if (added < 0)
        {
            throw Libc.Error("epoll_ctl(eventfd)", -added);
        }

        _acceptor?.Start(_epfd);
        _thread = new Thread(Run) { IsBackground = true, Name = $"wsgw-loop-{_index}" };
        _thread.UnsafeStart();
    }

    /// <summary>Stops the loop: every connection still open has its socket closed, then the thread ends.</summary>
    public void Stop()
    {
        _ = Interlocked.CompareExchange(ref _state, Stopping, Running);
        Wake();
        _thread?.Join();
    }

    /// <summary>Has the loop's thread run <paramref name="op"/> for <paramref name="connection"/>.</summary>
    public void Post(NativeConnection connection, LoopOp op)
    {
        _posted.Enqueue((connection, op)); // a full fence: read below, or drained by the loop after it stopped
        if (Volatile.Read(ref _state) == Stopped)
        {
            RunPostedOperations();
            return;
        }

        Wake();
    }

    /// <summary>Has this loop take a socket the accepting loop gave it.</summary>
    public void Adopt(int fd, IPEndPoint? remote, IPEndPoint local)
    {
        Interlocked.Increment(ref _incoming);
        _adopted.Enqueue((fd, remote, local));
        Wake();
    }

    /// <summary>Gives <paramref name="connection"/> another turn after the current one (it used its read budget).</summary>
    public void MarkReady(NativeConnection connection)
    {
        if (!connection.ReadyQueued)
        {
            connection.ReadyQueued = true;
            _ready.Add(connection);
        }
    }

    /// <summary>Frees a closed connection's slot (loop thread).</summary>
    public void Remove(NativeConnection connection) => _connections.Remove(connection.Tag);

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            Libc.Signal(_wakefd);
        }
    }

    private void Run()
    {
        EpollEvent[] events = GC.AllocateArray<EpollEvent>(MaxEvents, pinned: true);
        long nextTick = Stopwatch.GetTimestamp() + _tickTicks;
        try
        {
            while (Volatile.Read(ref _state) == Running)
            {
                int timeout = 0;
                if (_ready.Count == 0 && _posted.IsEmpty && _adopted.IsEmpty)
                {
                    long wakeAt = _acceptor?.ResumeAt is { } resumeAt ? Math.Min(nextTick, resumeAt) : nextTick;
                    long wait = (wakeAt - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                    timeout = (int)Math.Clamp(wait + 1, 0, int.MaxValue);
                }

                int n = Libc.EpollWait(_epfd, events, timeout);
                if (n < 0)
                {
                    Log.EventLoopError(_manager.Logger, _index, Libc.Error("epoll_wait", -n).Message, null);
                    break;
                }

                for (int i = 0; i < n; i++)
                {
                    Dispatch(events[i].Events, events[i].Data);
                }

                RunPosted();
                RunReady();

                long now = Stopwatch.GetTimestamp();
                _acceptor?.ResumeIfDue(now);

                if (now >= nextTick)
                {
                    nextTick = now + _tickTicks;
                    Tick();
                }
            }
        }
        catch (Exception ex)
        {
            Log.EventLoopError(_manager.Logger, _index, "stopped by an unexpected exception", ex);
        }
        finally
        {
            CloseAll();

            // A read posted and not run would wait for ever (it is the loop's to complete): run what is queued, on
            // sockets now closed, so that every pending read sees the end.
            Interlocked.Exchange(ref _state, Stopped);
            RunPostedOperations();
        }
    }

    private void Dispatch(uint events, ulong data)
    {
        if (data == WakeTag)
        {
            Libc.Drain(_wakefd);
            Volatile.Write(ref _wakeRequested, 0);
            return;
        }

        if (Acceptor.IsListenerTag(data, out int listener))
        {
            _acceptor?.Accept(listener);
            return;
        }

        if (_connections.Find(data) is not { } connection)
        {
            return; // a late event of a socket closed meanwhile
        }

        try
        {
            if ((events & (Libc.EPOLLOUT | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
            {
                connection.OnWritable();
            }

            if ((events & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
            {
                connection.OnReadable((events & (Libc.EPOLLRDHUP | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0);
            }
        }
        catch (Exception ex)
        {
            Log.EventLoopError(_manager.Logger, _index, $"connection {connection.Core?.Id} failed in its event", ex);
        }
    }

    private void RunPosted()
    {
        while (_adopted.TryDequeue(out (int Fd, IPEndPoint? Remote, IPEndPoint Local) socket))
        {
            OnAccepted(socket.Fd, socket.Remote, socket.Local);
            Interlocked.Decrement(ref _incoming);
        }

        RunPostedOperations();
    }

    private void RunPostedOperations()
    {
        while (_posted.TryDequeue(out (NativeConnection Connection, LoopOp Op) item))
        {
            try
            {
                item.Connection.Run(item.Op);
            }
            catch (Exception ex)
            {
                Log.EventLoopError(_manager.Logger, _index, $"connection {item.Connection.Core?.Id} failed in {item.Op}", ex);
            }
        }
    }

    private void RunReady()
    {
        if (_ready.Count == 0)
        {
            return;
        }

        (_ready, _readyTurn) = (_readyTurn, _ready);
        foreach (NativeConnection connection in _readyTurn)
        {
            connection.ReadyQueued = false;
            try
            {
                connection.OnReady();
            }
            catch (Exception ex)
            {
                Log.EventLoopError(_manager.Logger, _index, $"connection {connection.Core?.Id} failed in its turn", ex);
            }
        }

        _readyTurn.Clear();
    }

    /// <summary>The loop's timer: every connection's deadlines checked on this thread, once per tick.</summary>
    private void Tick()
    {
        long now = _manager.TimeProvider.GetTimestamp();
        long clock = Stopwatch.GetTimestamp();
        for (int slot = 0; slot < _connections.Used; slot++)
        {
            if (_connections[slot] is not { } connection)
            {
                continue;
            }

            connection.CloseIfLingeredOut(clock);
            if (connection.Core is not { } core)
            {
                continue;
            }

            try
            {
                core.OnHeartbeat(now);
            }
            catch (Exception ex)
            {
                Log.HeartbeatFailed(_manager.Logger, core.Id, ex);
            }
        }

    }

    /// <summary>Takes an accepted socket into this loop (loop thread): begins its handshake, or refuses it over the
    /// limit of handshakes in progress.</summary>
    internal void OnAccepted(int fd, IPEndPoint? remote, IPEndPoint local)
    {
        PendingHandshake? pending = _manager.BeginHandshakeOrRefuse(remote, 0, out byte[]? refusal);
        if (pending is null)
        {
            // Over the limit of handshakes in progress: 503 and close, as the Kestrel transport answers.
            Libc.SendAndClose(fd, refusal);
            return;
        }

        ulong tag = _connections.Reserve();
        var connection = new NativeConnection(this, fd, ConnectionSlots<NativeConnection>.SlotOf(tag), tag);
        _connections.Fill(tag, connection);
        int added = Libc.EpollAdd(_epfd, fd, Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLRDHUP | Libc.EPOLLET, tag);
        if (added < 0)
        {
            Log.EventLoopError(_manager.Logger, _index, Libc.Error("epoll_ctl(connection)", -added).Message, null);
            pending.End();
            connection.CloseSocket();
            return;
        }

        StartConnection(connection, remote, local, pending);
    }

    /// <summary>Runs the connection core on a socket now in the loop's epoll set.</summary>
    private void StartConnection(NativeConnection connection, IPEndPoint? remote, IPEndPoint local, PendingHandshake pending)
    {
        var core = new WebSocketConnection(connection, _manager, remote, local);
        connection.Core = core;
        core.BeginHandshake(pending);

        // The handshake runs when its request arrives (epoll reports a socket that is readable already when it is
        // added): it then completes at once, inline, and no task waits for the client.
        connection.AwaitHandshake();
    }

    private void CloseAll()
    {
        for (int slot = 0; slot < _connections.Used; slot++)
        {
            _connections[slot]?.CloseSocket();
        }

        while (_adopted.TryDequeue(out (int Fd, IPEndPoint? Remote, IPEndPoint Local) socket))
        {
            _ = Libc.close(socket.Fd);
        }

        _acceptor?.Close();
        _ = Libc.close(_epfd);
        _ = Libc.close(_wakefd);
    }
}
