using System.Buffers;
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
/// thread. The first loop also accepts, and hands each new socket to the loop with the fewest connections.
/// </summary>
internal sealed unsafe class EventLoop
{
    /// <summary>Size of the loop's receive buffer, which every read of every connection of the loop goes into.</summary>
    internal const int ReceiveBufferSize = 512 * 1024;

    private const int MaxEvents = 512;
    private const int AcceptsPerWake = 128;
    private const ulong WakeTag = ulong.MaxValue;
    private const ulong ListenerTagBase = ulong.MaxValue - 1; // listener i is ListenerTagBase - i
    private const int MaxListeners = 64;

    private readonly NativeTransport _transport;
    private readonly ConnectionManager _manager;
    private readonly int _index;
    private readonly ConcurrentQueue<(NativeConnection Connection, LoopOp Op)> _posted = new();
    private readonly ConcurrentQueue<(int Fd, IPEndPoint? Remote, IPEndPoint Local)> _adopted = new();
    private readonly long _tickTicks;
    private Thread? _thread;
    private int _threadId;
    private int _epfd = -1;
    private int _wakefd = -1;
    private int _wakeRequested;
    private volatile bool _stopping;

    // Set once the thread has closed every socket and ended: nothing of the loop is in use any more, so an operation
    // posted later (a read of a connection the shutdown timed out) runs on the poster's thread and sees the end.
    private int _stopped;

    // The connections this loop owns, by slot; a slot's generation changes when it is reused.
    private NativeConnection?[] _slots = new NativeConnection?[64];
    private uint[] _generations = new uint[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _used;
    private int _count;
    private int _incoming;

    // Connections that stopped reading at their budget and wait for their next turn.
    private List<NativeConnection> _ready = new();
    private List<NativeConnection> _readyTurn = new();

    // Accept failures (out of descriptors or memory): the spare descriptor, and the episode's log (loop 0 only).
    private AcceptFailures? _acceptFailures;

    // Where a refusal at the accept is written before it is sent (loop 0 only).
    private ArrayBufferWriter<byte>? _refusal;

    // Listeners taken out of epoll after an accept failure that could not be answered, and when to add them back.
    private long _acceptResumeAt;
    private bool _acceptPaused;

    public EventLoop(NativeTransport transport, ConnectionManager manager, int index, TimeSpan tick)
    {
        _transport = transport;
        _manager = manager;
        _index = index;
        _tickTicks = (long)(tick.TotalSeconds * Stopwatch.Frequency);
        ReceiveBuffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
    }

    /// <summary>The buffer every read of this loop goes into; valid for a connection until it advances its reader.</summary>
    public byte[] ReceiveBuffer { get; }

    /// <summary>Whether the caller is the loop's thread, or the loop has ended (its sockets closed, its buffer no longer
    /// read): then the caller is the only one left to finish a connection's reads.</summary>
    public bool IsLoopThread => Environment.CurrentManagedThreadId == _threadId || Volatile.Read(ref _stopped) != 0;

    /// <summary>Connections the loop owns.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Sockets handed to this loop that it has not taken yet.</summary>
    public int Incoming => Volatile.Read(ref _incoming);

    /// <summary>Creates the epoll instance and the wake-up descriptor, registers the listeners and starts the thread.</summary>
    public void Start(IReadOnlyList<int> listeners)
    {
        _epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw Libc.Error("epoll_create1", Marshal.GetLastPInvokeError());
        }

        _wakefd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_wakefd < 0 || Libc.EpollAdd(_epfd, _wakefd, Libc.EPOLLIN, WakeTag) < 0)
        {
            throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
        }

        if (_index == 0)
        {
            _acceptFailures = new AcceptFailures(_manager, _index);
            _acceptFailures.Open();
            AddListeners(listeners);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"wsgw-loop-{_index}" };
        _thread.UnsafeStart();
    }

    /// <summary>Stops the loop: every connection still open has its socket closed, then the thread ends.</summary>
    public void Stop()
    {
        _stopping = true;
        Wake();
        _thread?.Join();
    }

    /// <summary>Has the loop's thread run <paramref name="op"/> for <paramref name="connection"/>.</summary>
    public void Post(NativeConnection connection, LoopOp op)
    {
        _posted.Enqueue((connection, op)); // a full fence: read below, or drained by the loop after it set _stopped
        if (Volatile.Read(ref _stopped) != 0)
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
    public void Remove(NativeConnection connection)
    {
        int slot = connection.Slot;
        if (_slots[slot] != connection)
        {
            return;
        }

        _slots[slot] = null;
        _generations[slot]++;
        _free[_freeCount++] = slot;
        Volatile.Write(ref _count, _count - 1);
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            ulong one = 1;
            _ = Libc.write(_wakefd, (byte*)&one, sizeof(ulong));
        }
    }

    private void AddListeners(IReadOnlyList<int> listeners)
    {
        for (int i = 0; i < listeners.Count && i < MaxListeners; i++)
        {
            if (Libc.EpollAdd(_epfd, listeners[i], Libc.EPOLLIN, ListenerTagBase - (ulong)i) < 0)
            {
                throw Libc.Error("epoll_ctl(listener)", Marshal.GetLastPInvokeError());
            }
        }
    }

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        int stride = Libc.EpollEventSize;
        int dataOffset = Libc.EpollDataOffset;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * stride));
        long nextTick = Stopwatch.GetTimestamp() + _tickTicks;
        try
        {
            while (!_stopping)
            {
                int timeout = 0;
                if (_ready.Count == 0 && _posted.IsEmpty && _adopted.IsEmpty)
                {
                    long wakeAt = _acceptPaused ? Math.Min(nextTick, _acceptResumeAt) : nextTick;
                    long wait = (wakeAt - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                    timeout = (int)Math.Clamp(wait + 1, 0, int.MaxValue);
                }

                int n = Libc.epoll_wait(_epfd, events, MaxEvents, timeout);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    Log.EventLoopError(_manager.Logger, _index, Libc.Error("epoll_wait", errno).Message, null);
                    break;
                }

                for (int i = 0; i < n; i++)
                {
                    byte* e = events + (i * stride);
                    Dispatch(*(uint*)e, *(ulong*)(e + dataOffset));
                }

                RunPosted();
                RunReady();

                long now = Stopwatch.GetTimestamp();
                if (_acceptPaused && now >= _acceptResumeAt)
                {
                    _acceptPaused = false;
                    AddListeners(_transport.ListenerDescriptors);
                }

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
            NativeMemory.Free(events);
            CloseAll();

            // A read posted and not run would wait for ever (it is the loop's to complete): run what is queued, on
            // sockets now closed, so that every pending read sees the end.
            Interlocked.Exchange(ref _stopped, 1);
            RunPostedOperations();
        }
    }

    private void Dispatch(uint events, ulong data)
    {
        if (data == WakeTag)
        {
            ulong value;
            _ = Libc.read(_wakefd, (byte*)&value, sizeof(ulong));
            Volatile.Write(ref _wakeRequested, 0);
            return;
        }

        if (data > ListenerTagBase - MaxListeners)
        {
            Accept((int)(ListenerTagBase - data));
            return;
        }

        int slot = (int)(uint)data;
        NativeConnection? connection = slot < _slots.Length ? _slots[slot] : null;
        if (connection is null || connection.Tag != data)
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
        for (int slot = 0; slot < _used; slot++)
        {
            if (_slots[slot] is not { } connection)
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

    private void Accept(int listener)
    {
        if (_acceptPaused)
        {
            return;
        }

        int fd0 = _transport.ListenerDescriptors[listener];
        byte* address = stackalloc byte[128];
        for (int i = 0; i < AcceptsPerWake; i++)
        {
            int length = 128;
            int fd = Libc.accept4(fd0, address, &length, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is (Libc.EMFILE or Libc.ENFILE or Libc.ENOBUFS or Libc.ENOMEM) && !_acceptFailures!.OnFailed(fd0, errno))
                {
                    PauseAccepting();
                }

                return; // EAGAIN: nothing more; ECONNABORTED and the like: the client left
            }

            _acceptFailures!.OnAccepted();

            int one = 1;
            _ = Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, &one, sizeof(int));
            IPEndPoint? remote = NativeConnection.ParseAddress(new ReadOnlySpan<byte>(address, Math.Min(length, 128)));
            EventLoop owner = _transport.LeastLoaded(this);
            if (owner == this)
            {
                OnAccepted(fd, remote, _transport.ListenerEndPoints[listener]);
            }
            else
            {
                owner.Adopt(fd, remote, _transport.ListenerEndPoints[listener]);
            }
        }
    }

    /// <summary>An accept failure that could not be answered (<see cref="AcceptFailures"/>): the listeners leave the
    /// epoll set for 100 ms, so that a listener that stays readable does not make the loop spin.</summary>
    private void PauseAccepting()
    {
        foreach (int fd in _transport.ListenerDescriptors)
        {
            _ = Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, fd, null);
        }

        _acceptPaused = true;
        _acceptResumeAt = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
    }

    private void OnAccepted(int fd, IPEndPoint? remote, IPEndPoint local)
    {
        _refusal ??= new ArrayBufferWriter<byte>(256);
        PendingHandshake? pending = _manager.BeginHandshakeOrRefuse(remote, 0, _refusal);
        if (pending is null)
        {
            // Over the limit of handshakes in progress: 503 and close, as the Kestrel transport answers.
            Libc.SendAndClose(fd, _refusal.WrittenSpan);
            _refusal.ResetWrittenCount();
            return;
        }

        int slot = TakeSlot();
        ulong tag = ((ulong)_generations[slot] << 32) | (uint)slot;
        var connection = new NativeConnection(this, fd, slot, tag);
        _slots[slot] = connection;
        Volatile.Write(ref _count, _count + 1);
        if (Libc.EpollAdd(_epfd, fd, Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLRDHUP | Libc.EPOLLET, tag) < 0)
        {
            Log.EventLoopError(_manager.Logger, _index, Libc.Error("epoll_ctl(connection)", Marshal.GetLastPInvokeError()).Message, null);
            pending.End();
            connection.CloseSocket();
            return;
        }

        var core = new WebSocketConnection(connection, _manager, remote, local);
        connection.Core = core;
        _ = core.RunAsync(pending); // runs here, on the loop, until it waits for the client
    }

    private int TakeSlot()
    {
        if (_freeCount > 0)
        {
            return _free[--_freeCount];
        }

        if (_used == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
            Array.Resize(ref _generations, _generations.Length * 2);
            Array.Resize(ref _free, _free.Length * 2);
        }

        return _used++;
    }

    private void CloseAll()
    {
        for (int slot = 0; slot < _used; slot++)
        {
            _slots[slot]?.CloseSocket();
        }

        while (_adopted.TryDequeue(out (int Fd, IPEndPoint? Remote, IPEndPoint Local) socket))
        {
            _ = Libc.close(socket.Fd);
        }

        _acceptFailures?.Close();
        _ = Libc.close(_epfd);
        _ = Libc.close(_wakefd);
    }
}
