namespace WsGateway.Connections;

/// <summary>
/// How many client sockets fit in the process's file descriptor limit (<c>RLIMIT_NOFILE</c>) once the descriptors
/// already open and a reserve are set aside: every open connection and every handshake in progress is a socket, and
/// a process out of descriptors fails where it cannot recover (the runtime cannot load an assembly or start a
/// thread, and aborts). When <see cref="TradeGatewayOptions.MaxConnections"/> plus
/// <see cref="TradeGatewayOptions.MaxPendingHandshakes"/> do not fit, both are scaled down by the same factor (at
/// least one each), so that the gateway answers 503 before the process runs out. Pure: tested without a process limit.
/// </summary>
/// <param name="MaxConnections">The connection limit in force.</param>
/// <param name="MaxPendingHandshakes">The limit of handshakes in progress in force.</param>
/// <param name="Limit">The process's descriptor limit.</param>
/// <param name="InUse">Descriptors open when the server started.</param>
/// <param name="Reserve">Descriptors kept free beyond those (<see cref="TradeGatewayOptions.ReservedFileDescriptors"/>).</param>
internal readonly record struct DescriptorBudget(int MaxConnections, int MaxPendingHandshakes, long Limit, int InUse, int Reserve)
{
    /// <summary>Client sockets the limit leaves room for (0 or less: none).</summary>
    public long Available => Limit - InUse - Reserve;

    /// <summary>Client sockets that may be open at once: what the limit leaves, and at least room for the limits in
    /// force.</summary>
    public int MaxSockets => (int)Math.Clamp(Available, (long)MaxConnections + MaxPendingHandshakes, int.MaxValue);

    /// <summary>Fits <paramref name="maxConnections"/> and <paramref name="maxPendingHandshakes"/> into what
    /// <paramref name="limit"/> leaves once <paramref name="inUse"/> and <paramref name="reserve"/> are set aside.</summary>
    public static DescriptorBudget Fit(long limit, int inUse, int reserve, int maxConnections, int maxPendingHandshakes)
    {
        long available = limit - inUse - reserve;
        long wanted = (long)maxConnections + maxPendingHandshakes;
        if (wanted <= available)
        {
            return new(maxConnections, maxPendingHandshakes, limit, inUse, reserve);
        }

        long room = Math.Max(available, 2);
        int pending = (int)Math.Max(1, room * maxPendingHandshakes / wanted);
        int connections = (int)Math.Max(1, Math.Min(maxConnections, room - pending));
        return new(connections, pending, limit, inUse, reserve);
    }
}
