using System.Runtime.InteropServices;

namespace WsGateway.Transport.Native;

/// <summary>
/// The Linux system calls the native transport uses, through <see cref="LibraryImportAttribute"/> (source-generated
/// marshalling, no run-time stubs; every argument is blittable). Written here rather than taken from a bindings
/// package: the dozen calls below are all it needs, and the maintained packages (Tmds.LibC) are not on this project's
/// package source.
/// </summary>
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

    /// <summary>Size of <c>struct epoll_event</c>: packed (12 bytes) on x86-64, naturally aligned (16) elsewhere.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of <c>epoll_event.data</c>.</summary>
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* @event);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, int* value, int length);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int open(byte* path, int flags);

    /// <summary><c>struct rlimit</c> is two <c>rlim_t</c> (64 bits on x86-64 and ARM64): the soft limit, then the
    /// hard one.</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int getrlimit(int resource, ulong* limits);

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

    /// <summary>Sends <paramref name="response"/> (a refusal, in one try: a new socket's buffer takes it) and closes
    /// <paramref name="fd"/>.</summary>
    public static void SendAndClose(int fd, ReadOnlySpan<byte> response)
    {
        fixed (byte* p = response)
        {
            _ = send(fd, p, response.Length, MSG_NOSIGNAL);
        }

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

    /// <summary>Registers <paramref name="fd"/> with <paramref name="epfd"/> for <paramref name="events"/>, tagged
    /// with <paramref name="data"/>.</summary>
    public static int EpollAdd(int epfd, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev);
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
}
