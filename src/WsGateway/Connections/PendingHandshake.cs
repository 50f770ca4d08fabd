using System.Buffers;
using System.Net;

namespace WsGateway.Connections;

/// <summary>
/// One connection that has not finished its handshake, counted against <see cref="TradeGatewayOptions.MaxPendingHandshakes"/>
/// and <see cref="TradeGatewayOptions.MaxPendingHandshakesPerAddress"/> from its TCP accept (before TLS) until the
/// 101 has been written or, for a handshake refused or given up, until its socket is closed (it holds a descriptor
/// until then). <see cref="AcceptedAt"/> starts the handshake
/// timeout, so that the TLS handshake and the HTTP upgrade share one <see cref="TradeGatewayOptions.HandshakeTimeout"/>.
/// </summary>
internal sealed class PendingHandshake
{
    private readonly ConnectionManager _manager;
    private int _ended;

    internal PendingHandshake(ConnectionManager manager, IPAddress? address, long acceptedAt)
    {
        _manager = manager;
        Address = address;
        AcceptedAt = acceptedAt;
    }

    public IPAddress? Address { get; }

    /// <summary>The TCP accept, in <see cref="TimeProvider.GetTimestamp"/> ticks.</summary>
    public long AcceptedAt { get; }

    /// <summary>Stops counting this connection as a handshake in progress. Idempotent.</summary>
    public void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _manager.EndHandshake(Address);
        }
    }
}

internal sealed partial class ConnectionManager
{
    private readonly AddressCounter _pendingPerAddress = new();
    private int _pendingHandshakes;
    private int _maxPendingHandshakes;

    /// <summary>Connections that have not finished their handshake.</summary>
    public int PendingHandshakes => Volatile.Read(ref _pendingHandshakes);

    /// <summary>Counts a new connection as a handshake in progress, or refuses it (null, with the reason) when
    /// <see cref="TradeGatewayOptions.MaxPendingHandshakes"/> or the per-address limit is reached.</summary>
    public PendingHandshake? TryBeginHandshake(IPAddress? address, out string? refusal)
    {
        refusal = null;
        int pending = Interlocked.Increment(ref _pendingHandshakes);
        int max = MaxPendingHandshakes;
        if (pending > max)
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            refusal = $"Too many handshakes in progress: {max} (MaxPendingHandshakes)";
        }
        else if (address is not null && !_pendingPerAddress.TryAdd(address, Options.MaxPendingHandshakesPerAddress))
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            refusal = $"Too many handshakes in progress from {address}: {Options.MaxPendingHandshakesPerAddress} (MaxPendingHandshakesPerAddress)";
        }

        if (refusal is not null)
        {
            Metrics.LimitExceeded(LimitNames.PendingHandshakes, Diagnostics.GatewayMetrics.ActionRejected);
            return null;
        }

        return new PendingHandshake(this, address, TimeProvider.GetTimestamp());
    }

    /// <summary>The admission at the TCP accept, which every transport and hosting applies the same way: counts the
    /// new connection as a handshake in progress or, over <see cref="TradeGatewayOptions.MaxPendingHandshakes"/> (or
    /// the per-address limit), logs and counts the refusal and gives its HTTP 503 in <paramref name="refusal"/>, which
    /// the caller sends before it closes the connection (or drops, over TLS).</summary>
    /// <param name="remoteEndPoint">The client's end point.</param>
    /// <param name="connectionId">The connection's id for the log, 0 when it has none yet.</param>
    /// <param name="refusal">The 503 response when refused, null otherwise.</param>
    public PendingHandshake? BeginHandshakeOrRefuse(EndPoint? remoteEndPoint, long connectionId, out byte[]? refusal)
    {
        refusal = null;
        PendingHandshake? pending = TryBeginHandshake(Normalize((remoteEndPoint as IPEndPoint)?.Address), out string? reason);
        if (pending is null)
        {
            reason ??= "Too many handshakes in progress";
            Log.HandshakeRejected(Logger, connectionId, remoteEndPoint, 503, reason);
            Metrics.ConnectionRejected(503);
            var response = new ArrayBufferWriter<byte>(256);
            Handshake.HandshakeResponse.WriteError(response, 503, reason);
            refusal = response.WrittenSpan.ToArray();
        }

        return pending;
    }

    internal void EndHandshake(IPAddress? address)
    {
        Interlocked.Decrement(ref _pendingHandshakes);
        if (address is not null)
        {
            _pendingPerAddress.Remove(address);
        }
    }
}

/// <summary>Lock-free counts per address: compare-and-swap on the dictionary entry, removed when it drops to
/// zero.</summary>
internal sealed class AddressCounter
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IPAddress, int> _counts = new();

    public int this[IPAddress address] => _counts.TryGetValue(address, out int count) ? count : 0;

    public bool TryAdd(IPAddress address, int max)
    {
        while (true)
        {
            if (_counts.TryGetValue(address, out int count))
            {
                if (count >= max)
                {
                    return false;
                }

                if (_counts.TryUpdate(address, count + 1, count))
                {
                    return true;
                }
            }
            else if (_counts.TryAdd(address, 1))
            {
                return true;
            }
        }
    }

    public void Remove(IPAddress address)
    {
        while (_counts.TryGetValue(address, out int count))
        {
            if (count <= 1
                ? _counts.TryRemove(new KeyValuePair<IPAddress, int>(address, count))
                : _counts.TryUpdate(address, count - 1, count))
            {
                return;
            }
        }
    }
}
