using System.IO.Pipelines;

namespace WsGateway.Connections;

/// <summary>
/// What the connection core needs from whatever carries its bytes: a duplex pipe, a way to close the underlying
/// connection now, and word of when it is closed. The core knows no Kestrel type; each hosting adapts its own
/// connection (a Kestrel <c>ConnectionContext</c>, an upgraded ASP.NET Core request, an in-memory pipe pair).
/// </summary>
/// <remarks>
/// The core owns the connection's fate: every way a connection ends either completes the output after its last
/// frame and waits for <see cref="Closed"/> (bounded by the heartbeat), or calls <see cref="Abort"/>. Its
/// connection slot is given back only after that.
/// </remarks>
internal interface IConnectionTransport : IDuplexPipe
{
    /// <summary>Closes the underlying connection now, whatever is still unsent: pending and later reads and flushes
    /// end. Idempotent; safe from any thread.</summary>
    /// <param name="reason">Why, for the transport's logs.</param>
    void Abort(string reason);

    /// <summary>Completes when the underlying connection is closed (after the output was completed, or after
    /// <see cref="Abort"/>); hostings that cannot tell complete it at once.</summary>
    Task Closed { get; }

    /// <summary>Whether the client has closed its side or reset the connection, as far as the transport can tell
    /// without reading: what lets the core give up a connection it does not read (paused by backpressure) once its
    /// client has gone. Cheap enough to ask once a heartbeat; safe from any thread.</summary>
    bool PeerClosed { get; }

    /// <summary>Whether the transport checks the session's timeouts itself, on its own thread (the native event
    /// loop's tick), instead of the manager's shared heartbeat.</summary>
    bool HasOwnTimer => false;

    /// <summary>Takes the open session over: the transport calls <see cref="ITransportSession.OnRead"/> when bytes
    /// arrive and finishes the session when it ends, and no task waits for the client meanwhile. False when the
    /// transport is a plain pipe, which <see cref="PipeReceiveLoop"/> then reads.</summary>
    bool StartReceiving(ITransportSession session) => false;
}

/// <summary>The one rule for which exceptions mean that the connection's transport has ended (the client vanished,
/// or the connection was given up and its transport closed), rather than a bug.</summary>
internal static class TransportErrors
{
    /// <summary>What a read or a flush throws when the transport has ended: Kestrel's
    /// <c>ConnectionResetException</c>/<c>ConnectionAbortedException</c> derive from these.</summary>
    public static bool IsEnded(Exception ex) => ex is IOException or ObjectDisposedException or OperationCanceledException;

    /// <summary>On the send side, also a pipe writer completed under the flush (<see cref="InvalidOperationException"/>:
    /// "writing is not allowed after the writer was completed").</summary>
    public static bool IsSendEnded(Exception ex) => IsEnded(ex) || ex is InvalidOperationException;
}

/// <summary>A transport over a bare duplex pipe (tests, in-memory use): <see cref="Abort"/> cancels the pending read
/// and flush and is remembered.</summary>
internal sealed class PipeTransport(IDuplexPipe pipe) : IConnectionTransport
{
    private volatile string? _abortReason;

    public PipeReader Input => pipe.Input;

    public PipeWriter Output => pipe.Output;

    public Task Closed => Task.CompletedTask;

    /// <summary>Set by a test to say the client has gone.</summary>
    public bool PeerClosed { get; set; }

    /// <summary>Whether <see cref="Abort"/> was called, and why.</summary>
    public string? AbortReason => _abortReason;

    public void Abort(string reason)
    {
        _abortReason ??= reason;
        pipe.Input.CancelPendingRead();
        pipe.Output.CancelPendingFlush();
    }
}
