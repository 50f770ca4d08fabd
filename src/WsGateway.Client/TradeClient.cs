using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using WsGateway.Framing;

namespace WsGateway.Client;

/// <summary>
/// A WebSocket client for the trade gateway: connects over <c>ws://</c> or <c>wss://</c>, sends SBE trades (one per
/// message, many per message, or pre-encoded bytes), receives the server's replies and closes with the full closing
/// handshake. Its own RFC 6455 framing, shared with the gateway, masks every frame with a key from a cryptographic
/// source and sends without allocating.
/// </summary>
/// <remarks>
/// <para><b>Sending.</b> <see cref="SendTradeAsync"/>, <see cref="SendTradesAsync"/>, <see cref="SendRawAsync"/> and
/// <see cref="SendTextAsync"/> write one message and flush it. For throughput, <see cref="TryWriteTrade"/>,
/// <see cref="TryWriteTrades"/> and <see cref="TryWriteRaw"/> only encode the frame into the send buffer
/// (<see cref="TradeClientOptions.SendBufferSize"/>), returning <see langword="false"/> when it is full, and
/// <see cref="FlushAsync"/> hands everything buffered to the socket in one write. Encoding a trade, masking it and
/// flushing a <c>ws://</c> connection allocate nothing once the connection is open.</para>
/// <para><b>Receiving.</b> <see cref="ReceiveAsync"/> returns the next whole message or the server's close. Pings are
/// answered inside it, so a client that expects replies or keep-alive pings should keep a receive pending (typically a
/// loop on its own task). The payload of a message is valid until the next receive. A client that must see every
/// reply up to the server's close (echoes in flight, say) ends with <see cref="CloseOutputAsync"/>, lets its receive
/// loop run to the server's close, then calls <see cref="CloseAsync"/>.</para>
/// <para><b>Threading.</b> One sender at a time: the <c>TryWrite*</c>, <c>Send*Async</c>, <see cref="FlushAsync"/>,
/// <see cref="CloseOutputAsync"/> and <see cref="CloseAsync"/> calls must not overlap each other (await each before the next); a write while a flush is in
/// flight throws <see cref="InvalidOperationException"/>. One receiver at a time: <see cref="ReceiveAsync"/> may run on
/// another task concurrently with the sender. Control frames the receive path sends (pong, the answer to the server's
/// close) never interleave with a data frame.</para>
/// <para><b>Errors.</b> A protocol violation by the server fails the connection (RFC 6455 §7.1.7): the client sends a
/// close frame with 1002, 1007 or 1009 and drops the TCP connection, and <see cref="ReceiveAsync"/> throws
/// <see cref="WebSocketException"/>. A connection lost without a close frame throws <see cref="WebSocketException"/>
/// with <see cref="WebSocketError.ConnectionClosedPrematurely"/> and sets <see cref="CloseStatus"/> to 1006. Sending after
/// a close frame was sent throws <see cref="WebSocketException"/> with <see cref="WebSocketError.InvalidState"/>.
/// Cancelling a send or flush drops the connection, because part of a frame may already be on the wire.</para>
/// </remarks>
/// <example>
/// <code>
/// await using TradeClient client = await TradeClient.ConnectAsync(new Uri("ws://127.0.0.1:9001/"));
/// await client.SendTradeAsync(new Trade(1, (byte)'B', 100.5, 1000));
/// await client.CloseAsync();
/// </code>
/// </example>
public sealed partial class TradeClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly TimeSpan _closeTimeout;

    // Serialises writes to the stream: the sender's flushes and the receive path's control frames.
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private volatile bool _closeSent;
    private ushort _closeStatus;
    private string? _closeReason;
    private int _disposed;

    private TradeClient(Socket socket, Stream stream, PipeReader input, TradeClientOptions options)
    {
        _socket = socket;
        _stream = stream;
        _input = input;
        _closeTimeout = options.CloseTimeout;
        _maxMessageSize = options.MaxMessageSize;
        _message = new MessageBuffer(options.MaxMessageSize);
        _sendBuffer = new byte[options.SendBufferSize];
        _dataKeys = new MaskKeySource(options.MaskKeyOverride);
        _controlKeys = new MaskKeySource(options.MaskKeyOverride);
    }

    /// <summary>The close status once the connection has ended or is ending: the code of the server's close frame
    /// (1005 when it carried none), the code the client failed the connection with (1002, 1007, 1009), or 1006 when the
    /// connection was lost or dropped without a closing handshake. <see langword="null"/> while open.</summary>
    public ushort? CloseStatus => _closeStatus == 0 ? null : _closeStatus;

    /// <summary>The reason that goes with <see cref="CloseStatus"/>, possibly empty; <see langword="null"/> while open.</summary>
    public string? CloseReason => _closeReason;

    /// <summary>
    /// Opens a TCP connection (with <c>TCP_NODELAY</c>), for <c>wss://</c> the TLS session (SNI = the URL's host), and
    /// performs the WebSocket opening handshake.
    /// </summary>
    /// <param name="url">A <c>ws://</c> or <c>wss://</c> URL, such as <c>ws://127.0.0.1:9001/</c> or
    /// <c>wss://gateway.example.com/trades</c>; no fragment.</param>
    /// <param name="options">Headers, TLS validation, buffer sizes and timeouts; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The open client.</returns>
    /// <exception cref="ArgumentException">The URL is not an absolute ws:// or wss:// URL, has a fragment, or the
    /// options are invalid (the message names the option).</exception>
    /// <exception cref="WebSocketHandshakeException">The server refused the handshake (its status code and body are on
    /// the exception), or its 101 response failed validation.</exception>
    /// <exception cref="TimeoutException">The connect took longer than <see cref="TradeClientOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="SocketException">The TCP connection could not be made.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed, for example
    /// because the server's certificate was not accepted.</exception>
    public static async Task<TradeClient> ConnectAsync(Uri url, TradeClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new TradeClientOptions();
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        if (!url.IsAbsoluteUri || (url.Scheme != "ws" && url.Scheme != "wss"))
        {
            throw new ArgumentException($"Expected an absolute ws:// or wss:// URL, got '{url}'", nameof(url));
        }

        if (url.Fragment.Length > 0)
        {
            throw new ArgumentException($"A WebSocket URL must not have a fragment (RFC 6455 §3), got '{url}'", nameof(url));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        PipeReader? input = null;
        try
        {
            await socket.ConnectAsync(url.IdnHost, url.Port, timeout.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (url.Scheme == "wss")
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = url.IdnHost,
                        RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
                    },
                    timeout.Token).ConfigureAwait(false);
            }

            input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReceiveBufferSize, minimumReadSize: ReceiveBufferSize / 4, leaveOpen: true));
            string key = ClientHandshake.CreateKey();
            await stream.WriteAsync(ClientHandshake.BuildRequest(url, key, options.RequestHeaders), timeout.Token).ConfigureAwait(false);
            await ClientHandshake.ReadResponseAsync(input, key, timeout.Token).ConfigureAwait(false);
            return new TradeClient(socket, stream, input, options);
        }
        catch (Exception ex)
        {
            if (input is not null)
            {
                await input.CompleteAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Connecting to {url} did not complete within {options.ConnectTimeout.TotalSeconds:0.###} s", ex);
            }

            throw;
        }
    }

    /// <summary>
    /// Closes the connection with the closing handshake (RFC 6455 §7.1.2): sends what is still buffered, then a close
    /// frame, waits for the server's close frame (delivering nothing more: data messages that arrive meanwhile are
    /// discarded unless a <see cref="ReceiveAsync"/> loop on another task takes them), ends its own sending side (TLS
    /// close_notify, TCP FIN: nothing more will be sent), waits for the server to close the TCP connection, and
    /// releases the socket. When the server closed first, only the last three steps remain.
    /// </summary>
    /// <param name="code">The close code: 1000-1003, 1007-1014 or 3000-4999.</param>
    /// <param name="reason">An optional reason; cut to 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancels the close, dropping the connection.</param>
    /// <returns>A task that completes once the connection is closed. If the server does not answer within
    /// <see cref="TradeClientOptions.CloseTimeout"/> the connection is dropped and <see cref="CloseStatus"/> is 1006.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent in a close frame.</exception>
    /// <exception cref="WebSocketException">The connection failed while closing.</exception>
    public async Task CloseAsync(ushort code = Framing.CloseStatus.Normal, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (!Framing.CloseStatus.IsValidReceivedCode(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Not a close code that may be sent: use 1000-1003, 1007-1014 or 3000-4999.");
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_closeTimeout);
        try
        {
            if (!_closeSent)
            {
                try
                {
                    await FlushAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (WebSocketException) when (_closeSent)
                {
                    // The server's close arrived and was answered meanwhile; what was buffered can no longer be sent.
                }

                await SendCloseAsync(code, reason, timeout.Token).ConfigureAwait(false);
            }

            await WaitForServerCloseAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server did not answer in time: drop the connection (§7.1.1 allows it after a reasonable time).
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Starts the closing handshake without waiting for it to finish: sends what is still buffered, then a close frame
    /// (the equivalent of <c>ClientWebSocket.CloseOutputAsync</c>). Messages the server sent before its close answer
    /// are still delivered to a <see cref="ReceiveAsync"/> loop, which then returns the server's close; call
    /// <see cref="CloseAsync"/> after that to wait for the end of the TCP connection and release the socket. Use this
    /// instead of <see cref="CloseAsync"/> when a receive loop must see every reply, for example echoes in flight.
    /// </summary>
    /// <param name="code">The close code: 1000-1003, 1007-1014 or 3000-4999.</param>
    /// <param name="reason">An optional reason; cut to 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancels the send, dropping the connection.</param>
    /// <returns>A task that completes once the close frame was handed to the socket, or at once when a close frame
    /// was already sent (for example the answer to the server's close; what is buffered is then not sent).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent in a close frame.</exception>
    /// <exception cref="WebSocketException">The connection was lost.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task CloseOutputAsync(ushort code = Framing.CloseStatus.Normal, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (!Framing.CloseStatus.IsValidReceivedCode(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Not a close code that may be sent: use 1000-1003, 1007-1014 or 3000-4999.");
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            ClientThrowHelper.ThrowDisposed();
        }

        if (_closeSent)
        {
            return;
        }

        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException) when (_closeSent)
        {
            // The server's close arrived and was answered meanwhile: the close frame is out.
            return;
        }

        await SendCloseAsync(code, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the connection at once, without a closing handshake unless one already completed (use
    /// <see cref="CloseAsync"/> for a clean close), and releases the socket and buffers. A pending
    /// <see cref="ReceiveAsync"/> or flush fails. Idempotent.</summary>
    /// <returns>A task that completes once everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort();

        // Wait for a receive or a write in flight to fail and leave before releasing what they use.
        await _receiveLock.WaitAsync().ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            _message.Dispose();
        }
        finally
        {
            // Later calls see _disposed and throw ObjectDisposedException instead of waiting forever.
            _writeLock.Release();
            _receiveLock.Release();
        }
    }

    /// <summary>Ends the sending direction after the closing handshake: TLS close_notify for <c>wss://</c>, then a
    /// TCP FIN. Best effort: the connection may already be gone.</summary>
    private async Task ShutdownSendAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            if (_stream is SslStream ssl)
            {
                await ssl.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the socket; a pending read or write then fails. Records 1006 unless a status is known.</summary>
    private void Abort()
    {
        SetCloseStatus(Framing.CloseStatus.Abnormal, null);
        _socket.Dispose();
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
            // An SslStream may fail to send its close_notify on a socket already closed.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void SetCloseStatus(ushort code, string? reason)
    {
        if (Interlocked.CompareExchange(ref _closeStatus, code, 0) == 0)
        {
            _closeReason = reason;
        }
    }

    /// <summary>Waits for the server's close frame, reading it here unless a receive on another task does, then for
    /// the end of the TCP stream (the server closes first, §7.1.1).</summary>
    private async Task WaitForServerCloseAsync(CancellationToken cancellationToken)
    {
        if (!_closeReceived.Task.IsCompleted)
        {
            using var acquireCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task acquire = _receiveLock.WaitAsync(acquireCancel.Token);
            if (await Task.WhenAny(acquire, _closeReceived.Task).ConfigureAwait(false) == acquire)
            {
                await acquire.ConfigureAwait(false);
                try
                {
                    while (!(await ReceiveCoreAsync(cancellationToken).ConfigureAwait(false)).IsClose)
                    {
                        // Data messages after our close frame are discarded: the caller asked to close.
                    }
                }
                finally
                {
                    _receiveLock.Release();
                }
            }
            else
            {
                await acquireCancel.CancelAsync().ConfigureAwait(false);
                try
                {
                    await acquire.ConfigureAwait(false);
                    _receiveLock.Release();
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        // Both close frames are out: nothing more will be sent, so say so with TCP too. A server that failed the
        // connection (1002, 1007, 1009) may be reading until the client's side ends rather than close at once, so
        // that a reset cannot destroy its close frame; without this both sides would wait for the other.
        await ShutdownSendAsync(cancellationToken).ConfigureAwait(false);

        await _receiveLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WaitForEndOfStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The handshake completed; only the server's TCP close is late, and dropping the connection is fine.
        }
        finally
        {
            _receiveLock.Release();
        }
    }
}
