using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
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
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ConnectionManager _manager;
    private readonly TradeGatewayOptions _options;
    private readonly ILogger _logger;
    private readonly GatewayMetrics _metrics;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ITradeMessageHandler _handler = NullHandler.Instance;
    private IRawMessageHandler? _raw;
    private TradeMessageProcessor<ITradeMessageHandler> _processor;
    private WebSocketCloseInfo? _closeInfo;
    private int _disconnected;
    private bool _slotHeld;

    public WebSocketConnection(IDuplexPipe transport, ConnectionManager manager, EndPoint? remoteEndPoint, EndPoint? localEndPoint)
    {
        _input = transport.Input;
        _output = transport.Output;
        _manager = manager;
        _options = manager.Options;
        _logger = manager.Logger;
        _metrics = manager.Metrics;
        Id = manager.NextConnectionId();
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        _processor = new TradeMessageProcessor<ITradeMessageHandler>(_handler, Id);
        _message = new MessageBuffer(_options.MaxMessageSize);
        _lastReceive = manager.TimeProvider.GetTimestamp();
        _lastMessage = _lastReceive;
    }

    public long Id { get; }

    public EndPoint? RemoteEndPoint { get; }

    public EndPoint? LocalEndPoint { get; }

    public string Path { get; private set; } = "/";

    public ClaimsPrincipal User { get; private set; } = new(new ClaimsIdentity());

    /// <summary>Completes when the connection has ended and <c>OnDisconnect</c> was called.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The processor of this connection's binary messages (counters for tests and stats).</summary>
    internal TradeMessageProcessor<ITradeMessageHandler> Processor => _processor;

    /// <summary>Runs a raw connection whose first bytes are the HTTP/1.1 upgrade request (standalone hosting).</summary>
    public async Task RunAsync()
    {
        _manager.Register(this);
        _phase = Phase.Handshake;
        _handshakeDeadline = _lastReceive + ToTimestampTicks(_options.HandshakeTimeout);
        try
        {
            HandshakeRequest? request = await ReadHandshakeAsync().ConfigureAwait(false);
            if (request is null)
            {
                return;
            }

            if (!_manager.TryAcquireSlot())
            {
                string reason = _manager.IsStopping
                    ? "The gateway is shutting down"
                    : $"Connection limit reached: {_options.MaxConnections} connections are open";
                await WriteHandshakeErrorAsync(503, reason).ConfigureAwait(false);
                return;
            }

            _slotHeld = true;
            HandshakeResponse.WriteSwitchingProtocols(_output, request.Key);
            await _output.FlushAsync().ConfigureAwait(false);
            await RunWebSocketAsync(request.Path, user: null).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            // The client vanished during the handshake: nothing to tell a handler, none was created.
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
    public async Task RunUpgradedAsync(string path, ClaimsPrincipal? user)
    {
        _manager.Register(this);
        _slotHeld = true; // the endpoint acquired it before upgrading
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
            HandshakeResponse.WriteError(_output, status, error ?? status.ToString());
            await _output.FlushAsync().ConfigureAwait(false);
            return null;
        }
    }

    private async Task WriteHandshakeErrorAsync(int statusCode, string reason)
    {
        Log.HandshakeRejected(_logger, Id, RemoteEndPoint, statusCode, reason);
        _metrics.ConnectionRejected(statusCode);
        HandshakeResponse.WriteError(_output, statusCode, reason);
        await _output.FlushAsync().ConfigureAwait(false);
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
            await FlushAsync().ConfigureAwait(false);
            return;
        }

        _handler = handler;
        _raw = handler as IRawMessageHandler;
        _processor = new TradeMessageProcessor<ITradeMessageHandler>(handler, Id);
        _lastReceive = _manager.TimeProvider.GetTimestamp();
        _lastMessage = _lastReceive;
        _phase = Phase.Open;
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

            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            Log.TransportError(_logger, Id, ex);
            _processor.ReportError(new WsError(WsErrorKind.Transport, $"Transport failed: {ex.Message}", Id, Exception: ex));
            _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, ex.Message, InitiatedByClient: true, Clean: false);
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

        _phase = Phase.Closed;
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

    private async Task FinishAsync()
    {
        _phase = Phase.Closed;
        _manager.Unregister(this);
        if (_slotHeld)
        {
            _slotHeld = false;
            _manager.ReleaseSlot();
        }

        await _sendGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _outputCompleted = true;
            await _output.CompleteAsync().ConfigureAwait(false);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendGate.Release();
            _message.Dispose();
            _completion.TrySetResult();
        }
    }

    private static bool IsTransportException(Exception ex)
        => ex is IOException or ObjectDisposedException or OperationCanceledException; // Kestrel's ConnectionReset/AbortedException derive from these

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _manager.TimeProvider.TimestampFrequency);

    /// <summary>Stand-in until the real handler exists, so the fields are never null.</summary>
    private sealed class NullHandler : ITradeMessageHandler
    {
        public static readonly NullHandler Instance = new();

        public void OnTrade(ReadOnlySpan<byte> data)
        {
        }
    }
}

/// <summary>Lets the library's own echo handler send text messages back (the public API sends binary only).</summary>
internal interface ITextSender
{
    bool Send(ReadOnlySpan<byte> message, bool isText);
}
