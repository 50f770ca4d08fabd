using System.Runtime.InteropServices;

namespace WsGateway.Transport.Native;

/// <summary>
/// The Linux system calls the native transport uses, through <see cref="LibraryImportAttribute"/> (source-generated
/// marshalling, no run-time stubs; every argument is blittable). Written here rather than taken from a bindings
/// package: the dozen calls below are all it needs, and the maintained packages (Tmds.LibC) are not on this project's
/// package source.
/// </summary>
/// <remarks>
/// All the transport's unsafe code is here: the calls that take pointers are private, and the rest of the transport
/// uses the safe wrappers (spans in, counts or <c>-errno</c> out, a call interrupted by a signal made again by
/// <see cref="Interrupted"/>, the one place errors are read).
/// </remarks>
internal static unsafe partial class Libc
{
    private const string Library = "libc.so.6";

    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EMFILE = 24;
    public const int ENFILE = 23;
    public const int ENOBUFS = 105;
    public const int ENOMEM = 12;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int SOL_SOCKET = 1;
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    public const int RLIMIT_NOFILE = 7;
    public const int SO_REUSEADDR = 2;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;

    /// <summary>What the wrappers below return for a call that would block (<c>-EAGAIN</c>).</summary>
    public const int WouldBlock = -EAGAIN;

    /// <summary>Whether <c>struct epoll_event</c> is packed (12 bytes, <c>__attribute__((packed))</c> in the kernel's
    /// and glibc's headers: x86-64 only) rather than naturally aligned (16 bytes: ARM64).</summary>
    private static readonly bool s_packedEpollEvent = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, void* @event);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeout);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, int* value, int length);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int open(byte* path, int flags);

    /// <summary><c>struct rlimit</c> is two <c>rlim_t</c> (64 bits on x86-64 and ARM64): the soft limit, then the
    /// hard one.</summary>
    [LibraryImport(Library, SetLastError = true)]
    private static partial int getrlimit(int resource, ulong* limits);

    /// <summary>The process's soft <c>RLIMIT_NOFILE</c>: the most file descriptors it may have open (the runtime
    /// raised it to the hard limit at start-up), <see cref="long.MaxValue"/> when unlimited; null when it cannot be
    /// read.</summary>
    public static long? OpenFileLimit()
    {
        ulong* limits = stackalloc ulong[2];
        if (getrlimit(RLIMIT_NOFILE, limits) != 0)
        {
            return null;
        }

        return limits[0] > long.MaxValue ? long.MaxValue : (long)limits[0];
    }

    /// <summary>
    /// The one place a failed call's error is read, and an interrupted one told apart. <paramref name="result"/> is
    /// what the call returned: left as it is when it succeeded (not negative), else replaced by <c>-errno</c>.
    /// </summary>
    /// <returns>True when a signal interrupted the call (<c>EINTR</c>): make it again.</returns>
    private static bool Interrupted(ref nint result)
    {
        if (result >= 0)
        {
            return false;
        }

        int errno = Marshal.GetLastPInvokeError();
        result = -errno;
        return errno == EINTR;
    }

    /// <summary>Receives into <paramref name="buffer"/> from the non-blocking socket <paramref name="fd"/>.</summary>
    /// <returns>The bytes received; 0 at the end of the stream; <see cref="WouldBlock"/> when nothing is waiting;
    /// another <c>-errno</c> on an error. A call interrupted by a signal is made again.</returns>
    public static nint Recv(int fd, Span<byte> buffer)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            do
            {
                n = recv(fd, p, buffer.Length, 0);
            }
            while (Interrupted(ref n));
        }

        return n;
    }

    /// <summary>Sends <paramref name="data"/> on the non-blocking socket <paramref name="fd"/>, without
    /// <c>SIGPIPE</c> (<c>MSG_NOSIGNAL</c>) when the client has gone.</summary>
    /// <returns>The bytes sent (maybe fewer than offered); <see cref="WouldBlock"/> when the kernel's send buffer is
    /// full; another <c>-errno</c> on an error (<c>EPIPE</c>, <c>ECONNRESET</c>). A call interrupted by a signal is made
    /// again.</returns>
    public static nint Send(int fd, ReadOnlySpan<byte> data)
    {
        nint n;
        fixed (byte* p = data)
        {
            do
            {
                n = send(fd, p, data.Length, MSG_NOSIGNAL);
            }
            while (Interrupted(ref n));
        }

        return n;
    }

    /// <summary>Accepts a connection waiting on the listening socket <paramref name="listener"/>, as a non-blocking,
    /// close-on-exec socket, and writes the client's address (a <c>sockaddr</c>) into <paramref name="sockaddr"/>
    /// unless it is empty.</summary>
    /// <param name="listener">The listening socket.</param>
    /// <param name="sockaddr">Room for the client's address (128 bytes holds any), or empty when it is not wanted.</param>
    /// <param name="addressLength">The length of the address written into <paramref name="sockaddr"/>.</param>
    /// <returns>The new socket; <see cref="WouldBlock"/> when none is waiting; another <c>-errno</c> on an error
    /// (<c>EMFILE</c>, <c>ECONNABORTED</c>...). A call interrupted by a signal is made again.</returns>
    public static int Accept(int listener, Span<byte> sockaddr, out int addressLength)
    {
        int length = sockaddr.Length;
        nint fd;
        fixed (byte* p = sockaddr)
        {
            int* lengthPointer = sockaddr.IsEmpty ? null : &length;
            do
            {
                fd = accept4(listener, p, lengthPointer, SOCK_NONBLOCK | SOCK_CLOEXEC);
            }
            while (Interrupted(ref fd));
        }

        addressLength = fd >= 0 ? Math.Min(length, sockaddr.Length) : 0;
        return (int)fd;
    }

    /// <summary>Waits up to <paramref name="timeout"/> ms for events of <paramref name="epfd"/>, and fills
    /// <paramref name="events"/> with them.</summary>
    /// <returns>How many entries of <paramref name="events"/> were filled: 0 when the wait timed out, or was
    /// interrupted by a signal (the caller works out its timeout again and waits again); <c>-errno</c> on an
    /// error.</returns>
    public static int EpollWait(int epfd, Span<EpollEvent> events, int timeout)
    {
        nint n;
        fixed (EpollEvent* p = events)
        {
            n = epoll_wait(epfd, p, events.Length, timeout);
        }

        if (Interrupted(ref n))
        {
            return 0;
        }

        if (s_packedEpollEvent && n > 0)
        {
            // The kernel wrote n packed 12-byte entries at the start of the span: spread them out to the 16-byte
            // layout, from the last (entry i moves from byte 12i to 16i, never over an entry not yet moved).
            Span<byte> raw = MemoryMarshal.AsBytes(events);
            for (int i = (int)n - 1; i >= 0; i--)
            {
                PackedEpollEvent packed = MemoryMarshal.Read<PackedEpollEvent>(raw[(i * sizeof(PackedEpollEvent))..]);
                events[i] = new EpollEvent(packed.Events, packed.Data);
            }
        }

        return (int)n;
    }

    /// <summary>Registers <paramref name="fd"/> with <paramref name="epfd"/> for <paramref name="events"/>, tagged
    /// with <paramref name="data"/>.</summary>
    /// <returns>0, or <c>-errno</c>.</returns>
    public static int EpollAdd(int epfd, int fd, uint events, ulong data)
    {
        nint result;
        if (s_packedEpollEvent)
        {
            var ev = new PackedEpollEvent { Events = events, Data = data };
            result = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        }
        else
        {
            var ev = new EpollEvent(events, data);
            result = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        }

        _ = Interrupted(ref result); // epoll_ctl does not block: never interrupted
        return (int)result;
    }

    /// <summary>Takes <paramref name="fd"/> out of <paramref name="epfd"/>'s set.</summary>
    /// <returns>0, or <c>-errno</c>.</returns>
    public static int EpollDelete(int epfd, int fd)
    {
        nint result = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, null);
        _ = Interrupted(ref result);
        return (int)result;
    }

    /// <summary>Adds 1 to the counter of the eventfd <paramref name="fd"/>, which makes it readable.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        _ = write(fd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Reads (and so resets) the counter of the non-blocking eventfd <paramref name="fd"/>.</summary>
    public static void Drain(int fd)
    {
        ulong value;
        _ = read(fd, (byte*)&value, sizeof(ulong));
    }

    /// <summary>Turns Nagle's algorithm off on the socket <paramref name="fd"/> (<c>TCP_NODELAY</c>): each flush
    /// leaves at once.</summary>
    public static void SetNoDelay(int fd)
    {
        int one = 1;
        _ = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int));
    }

    /// <summary>Sends <paramref name="response"/> (a refusal, in one try: a new socket's buffer takes it) and closes
    /// <paramref name="fd"/>.</summary>
    public static void SendAndClose(int fd, ReadOnlySpan<byte> response)
    {
        _ = Send(fd, response);
        _ = close(fd);
    }

    /// <summary>Opens <c>/dev/null</c> read-only (close-on-exec): a descriptor held in reserve, or -1.</summary>
    public static int OpenSpare()
    {
        fixed (byte* path = "/dev/null\0"u8)
        {
            return open(path, O_RDONLY | O_CLOEXEC);
        }
    }

    /// <summary>Whether the transport can run here: Linux on x86-64 or ARM64 with glibc's libc.so.6.</summary>
    public static bool IsAvailable { get; } = ProbeAvailable();

    private static bool ProbeAvailable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return false;
        }

        try
        {
            int fd = eventfd(0, EFD_CLOEXEC);
            if (fd < 0)
            {
                return false;
            }

            close(fd);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The error of the last call, as the exception a transport failure is reported with.</summary>
    public static IOException Error(string call, int errno)
        => new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    /// <summary><c>struct epoll_event</c> as x86-64 lays it out: packed, <c>data</c> at offset 4, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct PackedEpollEvent
    {
        public uint Events;
        public ulong Data;
    }
}

/// <summary>
/// One event of <see cref="Libc.EpollWait"/>: <c>struct epoll_event</c> with its natural layout (<c>data</c> at
/// offset 8, 16 bytes), which is the kernel's on ARM64. On x86-64 the kernel's is packed (12 bytes): there
/// <see cref="Libc"/> converts, and no other code depends on the difference.
/// </summary>
/// <param name="events">The <c>EPOLL*</c> flags.</param>
/// <param name="data">The tag the descriptor was registered with.</param>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct EpollEvent(uint events, ulong data)
{
    /// <summary>The <c>EPOLL*</c> flags.</summary>
    public uint Events { get; } = events;

    /// <summary>The tag the descriptor was registered with.</summary>
    public ulong Data { get; } = data;
}
