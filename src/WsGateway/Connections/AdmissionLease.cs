using System.Net;

namespace WsGateway.Connections;

/// <summary>
/// One of the gateway's connection slots (<see cref="TradeGatewayOptions.MaxConnections"/>, and the client address's
/// when <see cref="TradeGatewayOptions.MaxConnectionsPerAddress"/> is set), held by an admitted connection. Disposing
/// it is the only way a slot is given back, and only the first dispose does (in the manner of Kestrel's
/// <c>ResourceCounter.TryLockOne/ReleaseOne</c>, with the release tied to the holder).
/// </summary>
internal sealed class AdmissionLease : IDisposable
{
    private readonly ConnectionManager _manager;
    private int _released;

    internal AdmissionLease(ConnectionManager manager, IPAddress? address)
    {
        _manager = manager;
        Address = address;
    }

    /// <summary>The address the slot is counted under (normalised), or null when unknown.</summary>
    public IPAddress? Address { get; }

    /// <summary>Whether the slot was given back.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>Gives the slot back; idempotent, any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _manager.Release(Address);
        }
    }
}
