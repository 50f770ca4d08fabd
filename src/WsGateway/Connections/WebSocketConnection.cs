using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using WsGateway.Framing;

namespace WsGateway.Connections;

/// <summary>Why a connection's loop was told to stop from outside.</summary>
internal enum AbortReason
{
    None,
    HandshakeTimeout,
    KeepAliveTimeout,
    CloseTimeout,
    ShutdownTimeout,

    /// <summary>A flush waited on the client longer than <see cref="TradeGatewayOptions.WriteTimeout"/>.</summary>
    WriteTimeout,

    /// <summary>An incomplete frame or message arrived slower than <see cref="TradeGatewayOptions.MinReceiveRate"/>.</summary>
    ReceiveTooSlow,

    /// <summary>The connection ended but its transport did not close within <see cref="TradeGatewayOptions.CloseTimeout"/>.</summary>
    FinishTimeout,

    /// <summary>The client closed or reset the connection while the gateway was not reading it (paused).</summary>
    ClientLeft,
}

/// <summary>
/// One WebSocket session over any <see cref="IConnectionTransport"/>: what the handler sees as its connection. It is
/// built from small parts, each with one job: the <see cref="HandshakeStage"/> (standalone hosting only), the
/// <see cref="FrameDecoder"/> (the partial frame's state), the <see cref="ConnectionSender"/> (bounded queue, one
/// flusher), the <see cref="ConnectionTimeouts"/> (every deadline), the <see cref="MessageRateLimiter"/> and the
/// close handshake (the <c>Closing</c> partial). It never touches a socket and never waits for bytes itself: a
/// transport's receive driver hands it each read (<see cref="OnRead"/>) — the native event loop inline on its thread,
/// any pipe through <see cref="PipeReceiveLoop"/>.
/// </summary>
/// <remarks>
/// Read from the top, the lifetime is: <see cref="RunAsync"/> → handshake stage → <see cref="Open"/>
/// (<c>OnConnect</c>) → reads until a close handshake, an error or the client vanishing → <see cref="EndReceiving"/>
/// (<c>OnDisconnect</c>, exactly once) → <see cref="FinishAsync"/> (transport closed, then the lease disposed).
/// </remarks>
internal sealed partial class WebSocketConnection : IGatewayConnection, ITextSender, ITransportSession
{
    private readonly IConnectionTransport _transport;
    private readonly ConnectionManager _manager;
    private ConnectionTimeouts _timeouts; // a struct: every deadline's state, in this object

    // Every frame goes through the sender's bounded queue; nobody waits synchronously on it (see ConnectionSender).
    private readonly ConnectionSender _sender;
    private TaskCompletionSource? _completion;

    private ITradeMessageHandler _handler = NullHandler.Instance;
    private IRawMessageHandler? _raw;
    private IReadCompletionHandler? _readCompletion;
    private TradeMessageProcessor<ITradeMessageHandler>? _processor;
    private int _disconnected;
    private int _finished;
    private AdmissionLease? _lease;
    private HandshakeStage? _handshake;
    private ClaimsPrincipal? _user;

    /// <summary>The gateway's <see cref="ConnectionRegistry"/> links its connections through these (under its lock).</summary>
    internal WebSocketConnection? RegistryPrevious;
    internal WebSocketConnection? RegistryNext;
    internal bool IsRegistered;

    public WebSocketConnection(IDuplexPipe transport, ConnectionManager manager, EndPoint? remoteEndPoint, EndPoint? localEndPoint)
        : this(transport as IConnectionTransport ?? new PipeTransport(transport), manager, remoteEndPoint, localEndPoint)
    {
    }

    public WebSocketConnection(IConnectionTransport transport, ConnectionManager manager, EndPoint? remoteEndPoint, EndPoint? localEndPoint, long id = 0)
    {
        _transport = transport;
        _manager = manager;
        Id = id != 0 ? id : manager.NextConnectionId();
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        TradeGatewayOptions options = manager.Options;
        _decoder = new FrameDecoder(options.MaxMessageSize);
        _timeouts = new ConnectionTimeouts(manager.TimeoutSettings, manager.TimeProvider);
        _sender = new ConnectionSender(transport.Output, manager.TimeProvider, options.MaxSendQueueSize);
        if (options.MessageRateLimit is { } rate)
        {
            _rateLimit = new MessageRateLimiter(rate, manager.TimeProvider.GetTimestamp(), manager.TimeProvider.TimestampFrequency);
        }
    }

    public long Id { get; }

    public EndPoint? RemoteEndPoint { get; }

    public EndPoint? LocalEndPoint { get; }

    public string Path { get; private set; } = "/";

    public ClaimsPrincipal User
    {
        get => _user ??= new ClaimsPrincipal(new ClaimsIdentity()); // made when asked for: most connections never are
        private set => _user = value;
    }

    /// <summary>Completes when the connection has ended and <c>OnDisconnect</c> was called.</summary>
    public Task Completion
    {
        get
        {
            if (_completion is null)
            {
                // Made when first asked for (the shutdown, a test): an idle connection holds no task.
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Interlocked.CompareExchange(ref _completion, created, null) is null && Volatile.Read(ref _finished) == 2)
                {
                    created.TrySetResult();
                }
            }

            return _completion!.Task;
        }
    }

    /// <summary>The transport this connection runs on.</summary>
    internal IConnectionTransport Transport => _transport;

    /// <summary>The connection's send side (the handshake stage writes its answer there).</summary>
    internal ConnectionSender Sender => _sender;

    /// <summary>The connection's deadlines.</summary>
    internal ref ConnectionTimeouts Timeouts => ref _timeouts;

    /// <summary>The connection's phase.</summary>
    internal ConnectionState State => _state;

    /// <summary>The processor of this connection's binary messages (counters for tests and stats); null before
    /// <see cref="Open"/>.</summary>
    internal TradeMessageProcessor<ITradeMessageHandler>? Processor => _processor;

    private TradeGatewayOptions Options => _manager.Options;

    private Diagnostics.GatewayMetrics Metrics => _manager.Metrics;

    private Microsoft.Extensions.Logging.ILogger Logger => _manager.Logger;

    /// <summary>Runs a raw connection whose first bytes are the HTTP/1.1 upgrade request (standalone hosting): the
    /// handshake stage, then the session. The task completes once the handshake is over and the transport's receive
    /// driver has the session (the native event loop returns at once: it calls the session when bytes arrive), or,
    /// over a pipe, when the connection has finished.</summary>
    /// <param name="pending">The connection's place among the handshakes in progress, taken at the TCP accept (before
    /// TLS) by the hosting; when null it is taken here, and a connection over the limit is answered 503.</param>
    /// <param name="isSecure">Whether the connection came over TLS (the validator sees it).</param>
    /// <param name="clientCertificate">The certificate the client presented over TLS, if asked for one.</param>
    public Task RunAsync(PendingHandshake? pending = null, bool isSecure = false, X509Certificate2? clientCertificate = null)
    {
        BeginHandshake(pending, isSecure, clientCertificate);
        return RunHandshakeAsync();
    }

    /// <summary>The connection is accepted: registered, in its handshake phase, its deadline running from the accept.
    /// A transport that knows when bytes arrive runs the rest (<see cref="OnHandshakeBytes"/>) only then, so that the
    /// handshake usually completes at once, with no task waiting for the request.</summary>
    internal void BeginHandshake(PendingHandshake? pending, bool isSecure = false, X509Certificate2? clientCertificate = null)
    {
        _manager.Register(this);
        _state = ConnectionState.Handshake;
        _handshake = new HandshakeStage(this, _manager, pending, isSecure, clientCertificate);
    }

    /// <summary>The transport has news for a connection begun with <see cref="BeginHandshake"/>: bytes, the client's
    /// end, or a cancellation (the deadline). Runs the handshake, inline.</summary>
    public void OnHandshakeBytes() => _ = RunHandshakeAsync();

    private async Task RunHandshakeAsync()
    {
        HandshakeStage handshake = _handshake!;
        HandshakeOutcome? outcome = null;
        try
        {
            outcome = await handshake.RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (TransportErrors.IsEnded(ex))
        {
            // The client vanished during the handshake (or the heartbeat gave up on it): nothing to tell a handler,
            // none was created.
            Log.TransportError(Logger, Id, ex);
        }

        if (outcome is not { } done)
        {
            // A refused handshake stays counted until its socket is closed (FinishAsync): a refusal's socket holds a
            // descriptor through its lingering close, and a flood of them must not take more than the limit allows.
            await FinishAsync().ConfigureAwait(false);
            return;
        }

        _handshake = null; // what the handshake parsed is not kept for the connection's lifetime
        await RunSessionAsync(done.Path, done.User, done.Lease).ConfigureAwait(false);
    }

    /// <summary>Runs a connection whose handshake the host already completed (ASP.NET Core hosting).</summary>
    /// <param name="path">The request path.</param>
    /// <param name="user">The authenticated identity, if any.</param>
    /// <param name="lease">The connection slot the host's admission took, given back when the connection ends; null
    /// when none was taken (tests).</param>
    public Task RunUpgradedAsync(string path, ClaimsPrincipal? user, AdmissionLease? lease = null)
    {
        _manager.Register(this);
        return RunSessionAsync(path, user, lease);
    }

    private async Task RunSessionAsync(string path, ClaimsPrincipal? user, AdmissionLease? lease)
    {
        if (!Open(path, user, lease))
        {
            await _sender.FlushAsync().ConfigureAwait(false);
            await FinishAsync().ConfigureAwait(false);
            return;
        }

        if (_transport.StartReceiving(this))
        {
            return; // the transport's loop calls the session from now on, and finishes it
        }

        await PipeReceiveLoop.RunAsync(this, _transport.Input).ConfigureAwait(false);
        await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>The session begins: the handler is created and told (<c>OnConnect</c>). False when the handler could
    /// not be created (a 1011 is queued; the connection only finishes).</summary>
    internal bool Open(string path, ClaimsPrincipal? user, AdmissionLease? lease)
    {
        _lease = lease;
        Path = path;
        if (user is not null)
        {
            User = user;
        }

        ITradeMessageHandler handler;
        try
        {
            handler = _manager.CreateHandler(this);
        }
        catch (Exception ex)
        {
            Log.HandlerError(Logger, Id, ex);
            SendClose(CloseStatus.InternalError, "Handler could not be created");
            return false;
        }

        _handler = handler;
        _raw = handler as IRawMessageHandler;
        _readCompletion = handler as IReadCompletionHandler;
        _processor = new TradeMessageProcessor<ITradeMessageHandler>(handler, Id);
        _timeouts.Opened(_manager.TimeProvider.GetTimestamp());
        _state = ConnectionState.Open;
        Interlocked.MemoryBarrier(); // the phase is written before IsStopping is read (ShutdownAsync does the reverse)
        Metrics.ConnectionOpened();
        Log.ConnectionOpened(Logger, Id, RemoteEndPoint, path);

        try
        {
            handler.OnConnect(this);
        }
        catch (Exception ex)
        {
            OnHandlerException(ex, 0);
            Metrics.Received(0, 0, 0, 0, 1);
        }

        if (_manager.IsStopping)
        {
            // The shutdown began while this connection was completing its handshake.
            CloseFromTimer(CloseStatus.GoingAway, "Server shutting down");
        }

        return true;
    }

    /// <summary>The receive driver's read failed with a transport exception (the client vanished, or the transport
    /// was given up on).</summary>
    public void OnTransportFailed(Exception ex)
    {
        if (_abortReason != AbortReason.None)
        {
            // The heartbeat or the shutdown gave up on the connection and closed its transport.
            OnAborted();
            return;
        }

        Log.TransportError(Logger, Id, ex);
        _processor?.ReportError(new WsError(WsErrorKind.Transport, $"Transport failed: {ex.Message}", Id, Exception: ex));
        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, ex.Message, InitiatedByClient: true, Clean: false);
    }

    /// <summary>The session has stopped reading: <c>OnDisconnect</c>, exactly once.</summary>
    public void EndReceiving()
    {
        if (Interlocked.Exchange(ref _disconnected, 1) != 0)
        {
            return;
        }

        Metrics.ConnectionClosed();
        WebSocketCloseInfo info = _closeInfo ?? new WebSocketCloseInfo(CloseStatus.Abnormal, null, InitiatedByClient: true, Clean: false);
        Log.ConnectionClosed(Logger, Id, info.Code, info.Clean, (_processor?.MessagesProcessed ?? 0) + _rawMessages);
        try
        {
            _handler.OnDisconnect(info);
        }
        catch (Exception ex)
        {
            Log.HandlerError(Logger, Id, ex);
        }
    }

    /// <summary>
    /// The connection's last step, whichever way it ended: the last frames go out and the transport is closed, then
    /// the slot is given back. A connection that ended cleanly completes its output and waits for the transport to
    /// close (Kestrel sends what is left, then closes the socket); one that was given up (a timeout, the shutdown, a
    /// client that does not read) has its transport aborted. The heartbeat bounds the wait with
    /// <see cref="TradeGatewayOptions.CloseTimeout"/>, so no socket outlives its slot and nothing waits forever.
    /// </summary>
    public async Task FinishAsync()
    {
        EndReceiving();
        if (Interlocked.CompareExchange(ref _finished, 1, 0) != 0)
        {
            return;
        }

        _timeouts.Finishing(_manager.TimeProvider.GetTimestamp());
        _state = ConnectionState.Finishing;
        try
        {
            if (GivesUpTransport(_abortReason))
            {
                AbortTransport();
            }

            await _sender.CompleteAsync().ConfigureAwait(false);
            await _transport.Closed.ConfigureAwait(false);
            await _transport.Input.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (TransportErrors.IsEnded(ex))
        {
            AbortTransport();
        }
        finally
        {
            _state = ConnectionState.Closed;
            _decoder.Dispose();
            _handshake?.EndPending();
            _manager.Unregister(this);
            _lease?.Dispose();
            Volatile.Write(ref _finished, 2);
            Volatile.Read(ref _completion)?.TrySetResult();
        }
    }

    /// <summary>Stand-in until the real handler exists, so the fields are never null.</summary>
    private sealed class NullHandler : ITradeMessageHandler
    {
        public static readonly NullHandler Instance = new();

        public void OnTrade(ReadOnlySpan<byte> data)
        {
        }
    }
}

/// <summary>Helpers for the refusals the standalone server and the ASP.NET Core endpoint share.</summary>
internal static class HandshakeRejections
{
    /// <summary>A client-supplied value made safe to echo in a reason: printable ASCII, at most 100 chars.</summary>
    public static string Printable(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        Span<char> buffer = stackalloc char[Math.Min(value.Length, 100)];
        for (int i = 0; i < buffer.Length; i++)
        {
            char c = value[i];
            buffer[i] = c is >= ' ' and <= '~' ? c : '?';
        }

        return new string(buffer);
    }

    /// <summary>The WWW-Authenticate header of a refusal, if any.</summary>
    public static KeyValuePair<string, string>[]? Challenge(string? wwwAuthenticate)
        => wwwAuthenticate is null ? null : [new KeyValuePair<string, string>("WWW-Authenticate", wwwAuthenticate)];
}

/// <summary>Lets the library's own echo handler send text messages back (the public API sends binary only).</summary>
internal interface ITextSender
{
    bool Send(ReadOnlySpan<byte> message, bool isText);
}
