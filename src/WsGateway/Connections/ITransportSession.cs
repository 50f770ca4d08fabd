using System.Buffers;

namespace WsGateway.Connections;

/// <summary>
/// What a transport's receive driver sees of a session: the calls it makes when bytes arrive, when it waits, and when
/// the session ends. The native event loop makes them inline on its thread (no task waits for an idle connection);
/// <see cref="PipeReceiveLoop"/> makes them from an async loop over a pipe. Neither knows the session's type.
/// </summary>
internal interface ITransportSession
{
    /// <summary>The connection's id, for the transport's logs.</summary>
    long Id { get; }

    /// <summary>The pause in effect (backpressure), if any: the driver reads again once its task completes, and then
    /// calls <see cref="OnReadingResumed"/>.</summary>
    Task? PausedUntil { get; }


    /// <summary>Bytes (or the client's end, or a cancellation) for a connection whose handshake waits for them: the
    /// handshake runs now, inline.</summary>
    void OnHandshakeBytes();

    /// <summary>One read's bytes; <paramref name="buffer"/> is left as what was not consumed.</summary>
    ReadStep OnRead(ref ReadOnlySequence<byte> buffer, bool completed);

    /// <summary>The driver starts waiting for the client (the minimum receive rate counts the wait).</summary>
    void OnReadStarting();

    /// <summary>The driver stops waiting for the client without reading (a pause began while it waited): the minimum
    /// receive rate stops counting.</summary>
    void OnReadInterrupted();

    /// <summary>The driver reads again after a pause.</summary>
    void OnReadingResumed();

    /// <summary>A read was throttled by the rate limit: completes when the bucket holds a token again (one timer per
    /// pause, not per message).</summary>
    Task WaitForTokenAsync();

    /// <summary>The read was cancelled (the session's own abort).</summary>
    void OnReadCanceled();

    /// <summary>The transport failed under the read.</summary>
    void OnTransportFailed(Exception ex);

    /// <summary>The replies queued by the last read go out; the driver reads again once the task completes.</summary>
    Task FlushAsync();

    /// <summary>The driver stops reading: <c>OnDisconnect</c>, exactly once.</summary>
    void EndReceiving();

    /// <summary>The session's last step: output completed, transport closed, slot given back.</summary>
    Task FinishAsync();

    /// <summary>The transport's timer: what is due now (on the transport's thread when it has its own timer).</summary>
    void OnHeartbeat(long now);

    /// <summary>The transport saw the client's FIN or reset without reading.</summary>
    void OnPeerClosed();
}
