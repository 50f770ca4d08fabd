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
