using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using WsGateway.Connections.Handshake;
using WsGateway.Diagnostics;
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
/// One WebSocket connection over any <see cref="IDuplexPipe"/>: the handshake (standalone hosting), the receive
/// loop, control frames, the send path, timeouts and the close handshake. It never touches a socket: Kestrel's
/// connection pipe, an upgraded ASP.NET Core request stream or an in-memory pipe pair are all the same to it.
/// </summary>
/// <remarks>
/// Read from the top, the lifetime is: <see cref="RunAsync"/> → handshake → <c>OnConnect</c> → receive loop until a
/// close handshake, an error or the client vanishing → <c>OnDisconnect</c> exactly once → pipes completed.
/// </remarks>
internal sealed partial class WebSocketConnection : IGatewayConnection, ITextSender
{
    private readonly IConnectionTransport _transport;
    private readonly ConnectionTimeouts _timeouts;
    private readonly PipeReader _input;
    private readonly ConnectionManager _manager;
    private readonly TradeGatewayOptions _options;
    private readonly ILogger _logger;
    private readonly GatewayMetrics _metrics;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ITradeMessageHandler _handler = NullHandler.Instance;
    private IRawMessageHandler? _raw;
    private IReadCompletionHandler? _readCompletion;
    private TradeMessageProcessor<ITradeMessageHandler> _processor;
    private WebSocketCloseInfo? _closeInfo;
    private int _disconnected;
    private bool _slotHeld;
    private PendingHandshake? _pending;
    private IPAddress? _admittedAddress;
    private ClaimsPrincipal? _user;
    private readonly bool _isSecure;
    private readonly X509Certificate2? _clientCertificate;

    // Set once the upgrade request is parsed: from then on the handshake timeout cancels the validator (through
    // _validation), never a read that the receive loop would see.
    private volatile bool _handshakeParsed;
    private CancellationTokenSource? _validation;

    public WebSocketConnection(IDuplexPipe transport, ConnectionManager manager, EndPoint? remoteEndPoint, EndPoint? localEndPoint, bool isSecure = false, X509Certificate2? clientCertificate = null)
        : this(transport as IConnectionTransport ?? new PipeTransport(transport), manager, remoteEndPoint, localEndPoint, isSecure, clientCertificate)
    {
    }

    public WebSocketConnection(IConnectionTransport transport, ConnectionManager manager, EndPoint? remoteEndPoint, EndPoint? localEndPoint, bool isSecure = false, X509Certificate2? clientCertificate = null, long id = 0)
    {
        _isSecure = isSecure;
        _clientCertificate = clientCertificate;
        _transport = transport;
        _input = transport.Input;
        _manager = manager;
        _options = manager.Options;
        _logger = manager.Logger;
        _metrics = manager.Metrics;
        Id = id != 0 ? id : manager.NextConnectionId();
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        _processor = new TradeMessageProcessor<ITradeMessageHandler>(_handler, Id);
        _message = new MessageBuffer(_options.MaxMessageSize);
        _timeouts = new ConnectionTimeouts(_options, manager.TimeProvider);
        long created = manager.TimeProvider.GetTimestamp();
        _sender = new ConnectionSender(transport.Output, manager.TimeProvider, _options.MaxSendQueueSize);
        _rateLimit = _options.MessageRateLimit;
        _tokens = _rateLimit?.Burst ?? 0;
        _tokensAt = created;
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
    public Task Completion => _completion.Task;

    /// <summary>Whether an event loop of the native transport checks this connection's timeouts (on its own thread)
    /// instead of the manager's shared heartbeat.</summary>
    internal bool TimedByLoop { get; init; }

    /// <summary>The transport this connection runs on.</summary>
    internal IConnectionTransport Transport => _transport;

    /// <summary>The processor of this connection's binary messages (counters for tests and stats).</summary>
    internal TradeMessageProcessor<ITradeMessageHandler> Processor => _processor;

    /// <summary>Runs a raw connection whose first bytes are the HTTP/1.1 upgrade request (standalone hosting).</summary>
    /// <param name="pending">The connection's place among the handshakes in progress, taken at the TCP accept (before
    /// TLS) by the hosting; when null it is taken here, and a connection over the limit is answered 503.</param>
    public async Task RunAsync(PendingHandshake? pending = null)
    {
        _manager.Register(this);
        _state = ConnectionState.Handshake;
        try
        {
            string? refusal = null;
            pending ??= _manager.TryBeginHandshake(ConnectionManager.Normalize((RemoteEndPoint as IPEndPoint)?.Address), out refusal);
            _timeouts.StartHandshake(pending?.AcceptedAt ?? _manager.TimeProvider.GetTimestamp());
            if (pending is null)
            {
                await WriteHandshakeErrorAsync(503, refusal ?? "Too many handshakes in progress").ConfigureAwait(false);
                return;
            }

            // A handshake that does not reach its 101 stays counted until its socket is closed (FinishAsync): a
            // refusal's socket holds a descriptor through its lingering close, and a flood of them must not take
            // more descriptors than MaxPendingHandshakes allows.
            _pending = pending;
            HandshakeRequest? request = await ReadHandshakeAsync().ConfigureAwait(false);
            if (request is null)
            {
                return;
            }

            _handshakeParsed = true;
            (bool admitted, ClaimsPrincipal? user) = await AdmitAsync(request).ConfigureAwait(false);
            if (!admitted)
            {
                return;
            }

            _sender.TryWriteRaw(request.Key, static (output, key) => HandshakeResponse.WriteSwitchingProtocols(output, key));
            pending.End();
            _pending = null;

            await _sender.FlushAsync().ConfigureAwait(false);

            // What the handshake parsed is not kept for the connection's lifetime (this method's state holds it).
            string path = request.Path;
            request = null;
            pending = null;
            await RunWebSocketAsync(path, user).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            // The client vanished during the handshake (or the heartbeat gave up on it): nothing to tell a handler,
            // none was created.
            Log.TransportError(_logger, Id, ex);
        }
        finally
        {
            await FinishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs a connection whose handshake the host already completed (ASP.NET Core hosting).</summary>
    /// <param name="path">The request path.</param>
    /// <param name="user">The authenticated identity, if any.</param>
    /// <param name="admittedAddress">The address <see cref="ConnectionManager.TryAdmit"/> counted the connection
    /// under, given back when it ends.</param>
    public async Task RunUpgradedAsync(string path, ClaimsPrincipal? user, IPAddress? admittedAddress = null)
    {
        _manager.Register(this);
        _slotHeld = true; // the endpoint acquired it before upgrading
        _admittedAddress = admittedAddress;
        try
        {
            await RunWebSocketAsync(path, user).ConfigureAwait(false);
        }
        finally
        {
            await FinishAsync().ConfigureAwait(false);
        }
    }

    private async Task<HandshakeRequest?> ReadHandshakeAsync()
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                string reason = $"Handshake not completed within {_options.HandshakeTimeout.TotalSeconds:0.###} s";
                await WriteHandshakeErrorAsync(408, reason).ConfigureAwait(false);
                return null;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            HandshakeParseStatus status = HandshakeParser.TryParse(buffer, _options.MaxHandshakeSize, out SequencePosition consumed, out HandshakeRequest? request, out string? error);
            if (status == HandshakeParseStatus.Ok)
            {
                _input.AdvanceTo(consumed);
                return request;
            }

            if (status == HandshakeParseStatus.Incomplete)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }

                continue;
            }

            _input.AdvanceTo(buffer.End);
            int code = HandshakeResponse.GetStatusCode(status);
            Log.HandshakeRejected(_logger, Id, RemoteEndPoint, code, error ?? status.ToString());
            _metrics.ConnectionRejected(code);
            _sender.TryWriteRaw((Status: status, Reason: error ?? status.ToString()), static (output, s) => HandshakeResponse.WriteError(output, s.Status, s.Reason));
            await _sender.FlushAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The standalone server's admission of a parsed upgrade request (<see cref="ConnectionManager.AdmitAsync"/>,
    /// shared with ASP.NET Core hosting). Returns whether it was admitted (a refusal is answered here; on success a
    /// connection slot is held) and the identity established, null for none.</summary>
    private async Task<(bool Admitted, ClaimsPrincipal? User)> AdmitAsync(HandshakeRequest request)
    {
        IPAddress? address = ConnectionManager.Normalize((RemoteEndPoint as IPEndPoint)?.Address);
        ClaimsPrincipal anonymous = new(new ClaimsIdentity());
        using var validation = new CancellationTokenSource();
        _validation = validation;
        if (_state != ConnectionState.Handshake || _timeouts.HandshakeExpired(_manager.TimeProvider.GetTimestamp()))
        {
            validation.Cancel();
        }

        AdmissionResult result;
        try
        {
            result = await _manager.AdmitAsync(
                Id,
                request.Origin,
                address,
                RemoteEndPoint,
                anonymous,
                token => new HandshakeContext(request.Path, request.QueryString, RemoteEndPoint, LocalEndPoint, _isSecure, _clientCertificate, anonymous, request.GetHeader, token),
                validation.Token).ConfigureAwait(false);
        }
        finally
        {
            _validation = null;
        }

        if (!result.IsAdmitted)
        {
            await WriteHandshakeErrorAsync(result.StatusCode, result.Reason ?? "Refused", HandshakeRejections.Challenge(result.WwwAuthenticate), logged: true).ConfigureAwait(false);
            return (false, null);
        }

        _slotHeld = true;
        _admittedAddress = address;

        // No identity was established: the anonymous principal is made again only if someone asks for User.
        return (true, ReferenceEquals(result.User, anonymous) ? null : result.User);
    }

    private async Task WriteHandshakeErrorAsync(int statusCode, string reason, KeyValuePair<string, string>[]? headers = null, bool logged = false)
    {
        if (!logged)
        {
            Log.HandshakeRejected(_logger, Id, RemoteEndPoint, statusCode, reason);
        }

        _metrics.ConnectionRejected(statusCode);
        _sender.TryWriteRaw((statusCode, reason, headers), static (output, s) => HandshakeResponse.WriteError(output, s.statusCode, s.reason, s.headers));
        await _sender.FlushAsync().ConfigureAwait(false);
    }

    private async Task RunWebSocketAsync(string path, ClaimsPrincipal? user)
    {
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
            Log.HandlerError(_logger, Id, ex);
            SendClose(CloseStatus.InternalError, "Handler could not be created");
            await _sender.FlushAsync().ConfigureAwait(false);
            return;
        }

        _handler = handler;
        _raw = handler as IRawMessageHandler;
        _readCompletion = handler as IReadCompletionHandler;
        _processor = new TradeMessageProcessor<ITradeMessageHandler>(handler, Id);
        _timeouts.Opened(_manager.TimeProvider.GetTimestamp());
        _state = ConnectionState.Open;
        Interlocked.MemoryBarrier(); // the phase is written before IsStopping is read (ShutdownAsync does the reverse)
        _metrics.ConnectionOpened();
        Log.ConnectionOpened(_logger, Id, RemoteEndPoint, path);

        try
        {
            try
            {
                handler.OnConnect(this);
            }
            catch (Exception ex)
            {
                OnHandlerException(ex, 0);
            }

            if (_manager.IsStopping)
            {
                // The shutdown began while this connection was completing its handshake.
                CloseFromTimer(CloseStatus.GoingAway, "Server shutting down");
            }

            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            if (_abortReason != AbortReason.None)
            {
                // The heartbeat or the shutdown gave up on the connection and closed its transport.
                OnAborted();
            }
            else
            {
                Log.TransportError(_logger, Id, ex);
                _processor.ReportError(new WsError(WsErrorKind.Transport, $"Transport failed: {ex.Message}", Id, Exception: ex));
                _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, ex.Message, InitiatedByClient: true, Clean: false);
            }
        }
        finally
        {
            Disconnect();
        }
    }

    private void Disconnect()
    {
        if (Interlocked.Exchange(ref _disconnected, 1) != 0)
        {
            return;
        }

        _metrics.ConnectionClosed();
        WebSocketCloseInfo info = _closeInfo ?? new WebSocketCloseInfo(CloseStatus.Abnormal, null, InitiatedByClient: true, Clean: false);
        Log.ConnectionClosed(_logger, Id, info.Code, info.Clean, _processor.MessagesProcessed + _rawMessages);
        try
        {
            _handler.OnDisconnect(info);
        }
        catch (Exception ex)
        {
            Log.HandlerError(_logger, Id, ex);
        }
    }

    /// <summary>
    /// The connection's last step, whichever way it ended: the last frames go out and the transport is closed, then
    /// the slot is given back. A connection that ended cleanly completes its output and waits for the transport to
    /// close (Kestrel sends what is left, then closes the socket); one that was given up (a timeout, the shutdown, a
    /// client that does not read) has its transport aborted. The heartbeat bounds the wait with
    /// <see cref="TradeGatewayOptions.CloseTimeout"/>, so no socket outlives its slot and nothing waits forever.
    /// </summary>
    private async Task FinishAsync()
    {
        _timeouts.Finishing(_manager.TimeProvider.GetTimestamp());
        _state = ConnectionState.Finishing;
        try
        {
            if (_abortReason is not (AbortReason.None or AbortReason.HandshakeTimeout or AbortReason.ReceiveTooSlow))
            {
                AbortTransport();
            }

            await _sender.CompleteAsync().ConfigureAwait(false);
            await _transport.Closed.ConfigureAwait(false);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            AbortTransport();
        }
        finally
        {
            _state = ConnectionState.Closed;
            _message.Dispose();
            _pending?.End();
            _manager.Unregister(this);
            if (_slotHeld)
            {
                _slotHeld = false;
                _manager.Release(_admittedAddress);
            }

            _completion.TrySetResult();
        }
    }

    private static bool IsTransportException(Exception ex)
        => ex is IOException or ObjectDisposedException or OperationCanceledException; // Kestrel's ConnectionReset/AbortedException derive from these


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
