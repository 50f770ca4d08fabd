using System.Globalization;

namespace WsGateway.Tests.Infrastructure;

/// <summary>The kernel's view of this process's TCP sockets (Linux <c>/proc/self/net/tcp</c>), so that tests check
/// what the socket does, not what the gateway believes.</summary>
public static class TcpTable
{
    private const string Established = "01";
    private const string TimeWait = "06";

    /// <summary>Sockets in state ESTABLISHED whose local port is <paramref name="localPort"/> (the server's side of
    /// its connections when it is the listening port).</summary>
    public static int EstablishedOnLocalPort(int localPort) => InStateOnLocalPort(Established, localPort);

    /// <summary>Connections in state TIME_WAIT whose local port is <paramref name="localPort"/> (the listening port's,
    /// after the server closed them first).</summary>
    public static int TimeWaitOnLocalPort(int localPort) => InStateOnLocalPort(TimeWait, localPort);

    private static int InStateOnLocalPort(string state, int localPort)
    {
        int count = 0;
        foreach (string line in File.ReadLines("/proc/self/net/tcp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || fields[3] != state)
            {
                continue;
            }

            int colon = fields[1].IndexOf(':', StringComparison.Ordinal);
            if (int.Parse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == localPort)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Open file descriptors of this process.</summary>
    public static int OpenFileDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>File descriptors of this process that are TCP sockets with <paramref name="port"/> at either end (the
    /// listener, the server's side and the clients' side of its connections), whatever their state: a descriptor
    /// leaked by either side shows here, unaffected by other tests' sockets.</summary>
    public static int SocketDescriptorsOnPort(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/net/tcp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && (PortOf(fields[1]) == port || PortOf(fields[2]) == port))
            {
                inodes.Add(fields[9]);
            }
        }

        int count = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1]))
            {
                count++;
            }
        }

        return count;
    }

    private static int PortOf(string address)
        => int.Parse(address.AsSpan(address.IndexOf(':', StringComparison.Ordinal) + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
