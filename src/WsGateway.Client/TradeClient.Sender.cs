using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using WsGateway.Framing;
using WsGateway.Sbe;

namespace WsGateway.Client;

public sealed partial class TradeClient
{
    // Frames are encoded (header, payload, mask) straight into this buffer; a flush writes [0, _sendLength) in one call.
    private byte[] _sendBuffer;
    private int _sendLength;
    private int _bufferedMessages;
    private bool _flushing;
    private readonly MaskKeySource _dataKeys;

    // Control frames sent by the receive path (pong, close), written under _writeLock with their own keys.
    private readonly byte[] _controlBuffer = new byte[ClientFrameWriter.MaxControlFrameLength];
    private readonly MaskKeySource _controlKeys;

    private long _messagesSent;
    private long _bytesSent;

    /// <summary>Data messages handed to the socket so far (a batch of trades is one message). Messages still in the
    /// send buffer are not counted until flushed.</summary>
    public long MessagesSent => Volatile.Read(ref _messagesSent);

    /// <summary>Bytes handed to the socket so far: frame headers, masking keys and payloads, control frames included
    /// (before TLS).</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Bytes encoded into the send buffer and not yet flushed.</summary>
    public int BufferedBytes => _sendLength;

    /// <summary>Encodes one trade as a binary message into the send buffer without sending it (see
    /// <see cref="FlushAsync"/>). Does not allocate.</summary>
    /// <param name="trade">The trade; encoded as its 29-byte SBE message.</param>
    /// <returns><see langword="false"/> when the send buffer has no room for the 35-byte frame: flush and retry.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent.</exception>
    /// <exception cref="InvalidOperationException">A flush is in progress (one sender at a time).</exception>
    public bool TryWriteTrade(in Trade trade)
    {
        ThrowIfCannotWrite();
        int length = _sendLength;
        if (_sendBuffer.Length - length < ClientFrameWriter.TradeFrameLength)
        {
            return false;
        }

        _sendLength = length + ClientFrameWriter.WriteTrade(_sendBuffer.AsSpan(length), trade, _dataKeys.NextKey());
        _bufferedMessages++;
        return true;
    }

    /// <summary>Encodes <paramref name="trades"/> back to back as one binary message (the gateway's batch) into the
    /// send buffer without sending it. Does not allocate.</summary>
    /// <param name="trades">One or more trades.</param>
    /// <returns><see langword="false"/> when the send buffer has no room for the frame: flush and retry, or use
    /// <see cref="SendTradesAsync"/> for a batch larger than the buffer.</returns>
    /// <exception cref="ArgumentException"><paramref name="trades"/> is empty.</exception>
    /// <exception cref="WebSocketException">A close frame was already sent.</exception>
    /// <exception cref="InvalidOperationException">A flush is in progress (one sender at a time).</exception>
    public bool TryWriteTrades(ReadOnlySpan<Trade> trades)
    {
        ThrowIfCannotWrite();
        long frameLength = GetBatchFrameLength(trades);
        if (_sendBuffer.Length - _sendLength < frameLength)
        {
            return false;
        }

        _sendLength += ClientFrameWriter.WriteTrades(_sendBuffer.AsSpan(_sendLength), trades, _dataKeys.NextKey());
        _bufferedMessages++;
        return true;
    }

    /// <summary>Copies a pre-encoded message (for example SBE bytes) into the send buffer as one binary message,
    /// without sending it. Does not allocate.</summary>
    /// <param name="message">The whole message payload; sent as is.</param>
    /// <returns><see langword="false"/> when the send buffer has no room for the frame: flush and retry, or use
    /// <see cref="SendRawAsync"/> for a message larger than the buffer.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent.</exception>
    /// <exception cref="InvalidOperationException">A flush is in progress (one sender at a time).</exception>
    public bool TryWriteRaw(ReadOnlySpan<byte> message)
    {
        ThrowIfCannotWrite();
        if (_sendBuffer.Length - _sendLength < ClientFrameWriter.GetFrameLength(message.Length))
        {
            return false;
        }

        _sendLength += ClientFrameWriter.WriteFrame(_sendBuffer.AsSpan(_sendLength), WebSocketOpcode.Binary, message, _dataKeys.NextKey());
        _bufferedMessages++;
        return true;
    }

    /// <summary>Writes everything in the send buffer to the socket in one call. Completes at once when the buffer is
    /// empty. Does not allocate on a <c>ws://</c> connection.</summary>
    /// <param name="cancellationToken">Cancels the flush, dropping the connection.</param>
    /// <returns>A task that completes once the bytes were handed to the socket.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent (the buffered messages are not sent), or
    /// the connection was lost.</exception>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ClientThrowHelper.ThrowDisposed();
        }

        return _sendLength == 0 ? default : FlushCoreAsync(cancellationToken);
    }

    /// <summary>Sends one trade as a binary message: encodes it, then flushes it with anything buffered before it.</summary>
    /// <param name="trade">The trade.</param>
    /// <param name="cancellationToken">Cancels the send, dropping the connection.</param>
    /// <returns>A task that completes once the message was handed to the socket.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent, or the connection was lost.</exception>
    public ValueTask SendTradeAsync(in Trade trade, CancellationToken cancellationToken = default)
        => TryWriteTrade(trade) ? FlushAsync(cancellationToken) : FlushThenSendAsync(trade, cancellationToken);

    /// <summary>Sends <paramref name="trades"/> back to back as one binary message (the gateway delivers it as a
    /// batch). The frame is encoded before the method returns, so the span may be reused at once; the send buffer
    /// grows if the batch does not fit it.</summary>
    /// <param name="trades">One or more trades.</param>
    /// <param name="cancellationToken">Cancels the send, dropping the connection.</param>
    /// <returns>A task that completes once the message was handed to the socket.</returns>
    /// <exception cref="ArgumentException"><paramref name="trades"/> is empty.</exception>
    /// <exception cref="WebSocketException">A close frame was already sent, or the connection was lost.</exception>
    public ValueTask SendTradesAsync(ReadOnlySpan<Trade> trades, CancellationToken cancellationToken = default)
    {
        ThrowIfCannotWrite();
        Span<byte> frame = Reserve(GetBatchFrameLength(trades));
        _sendLength += ClientFrameWriter.WriteTrades(frame, trades, _dataKeys.NextKey());
        _bufferedMessages++;
        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends a pre-encoded message (for example SBE bytes) as one binary message. A message larger than the
    /// send buffer is masked and written in buffer-sized pieces.</summary>
    /// <param name="message">The whole message payload; not modified, and not needed after the task completes.</param>
    /// <param name="cancellationToken">Cancels the send, dropping the connection.</param>
    /// <returns>A task that completes once the message was handed to the socket.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent, or the connection was lost.</exception>
    public ValueTask SendRawAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (TryWriteRaw(message.Span))
        {
            return FlushAsync(cancellationToken);
        }

        return ClientFrameWriter.GetFrameLength(message.Length) <= _sendBuffer.Length
            ? FlushThenSendAsync(message, cancellationToken)
            : SendLargeAsync(message, cancellationToken);
    }

    /// <summary>Sends a text message (UTF-8; lone surrogates become U+FFFD). The gateway's trade endpoint refuses text
    /// with close 1003; an echo endpoint returns it.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the send, dropping the connection.</param>
    /// <returns>A task that completes once the message was handed to the socket.</returns>
    /// <exception cref="WebSocketException">A close frame was already sent, or the connection was lost.</exception>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ThrowIfCannotWrite();
        int payloadLength = Encoding.UTF8.GetByteCount(text);
        Span<byte> frame = Reserve(ClientFrameWriter.GetFrameLength(payloadLength));
        int key = _dataKeys.NextKey();
        int header = FrameWriter.WriteHeader(frame, WebSocketOpcode.Text, fin: true, payloadLength, key);
        Span<byte> payload = frame.Slice(header, payloadLength);
        Encoding.UTF8.GetBytes(text, payload);
        Masking.Apply(payload, key, 0);
        _sendLength += header + payloadLength;
        _bufferedMessages++;
        return FlushAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                ClientThrowHelper.ThrowDisposed();
            }

            if (_closeSent)
            {
                ClientThrowHelper.ThrowClosing();
            }

            _flushing = true;
            int length = _sendLength;
            await WriteToStreamAsync(_sendBuffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            _sendLength = 0;
            Volatile.Write(ref _messagesSent, _messagesSent + _bufferedMessages);
            _bufferedMessages = 0;
        }
        finally
        {
            _flushing = false;
            _writeLock.Release();
        }
    }

    private async ValueTask FlushThenSendAsync(Trade trade, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        TryWriteTrade(trade);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushThenSendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        TryWriteRaw(message.Span);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    // A message larger than the send buffer: header and payload pieces are masked in the buffer and written one after
    // another under the write lock, the key rotation carried across pieces, so no control frame can come in between.
    private async ValueTask SendLargeAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closeSent)
            {
                ClientThrowHelper.ThrowClosing();
            }

            _flushing = true;
            int key = _dataKeys.NextKey();
            int offset = FrameWriter.WriteHeader(_sendBuffer, WebSocketOpcode.Binary, fin: true, message.Length, key);
            int keyOffset = 0;
            while (!message.IsEmpty)
            {
                int count = Math.Min(message.Length, _sendBuffer.Length - offset);
                Span<byte> piece = _sendBuffer.AsSpan(offset, count);
                message.Span[..count].CopyTo(piece);
                keyOffset = Masking.Apply(piece, key, keyOffset);
                await WriteToStreamAsync(_sendBuffer.AsMemory(0, offset + count), cancellationToken).ConfigureAwait(false);
                message = message[count..];
                offset = 0;
            }

            Volatile.Write(ref _messagesSent, _messagesSent + 1);
        }
        finally
        {
            _flushing = false;
            _writeLock.Release();
        }
    }

    /// <summary>Sends a control frame from <see cref="_controlBuffer"/>; nothing once a close frame was sent.</summary>
    private async ValueTask SendControlAsync(WebSocketOpcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closeSent)
            {
                return;
            }

            int length = ClientFrameWriter.WriteFrame(_controlBuffer, opcode, payload.Span, _controlKeys.NextKey());
            await WriteToStreamAsync(_controlBuffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends a close frame unless one was already sent. Later data frames are refused.</summary>
    private async ValueTask SendCloseAsync(ushort code, string? reason, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closeSent)
            {
                return;
            }

            _closeSent = true;
            int length = ClientFrameWriter.WriteClose(_controlBuffer, code, reason, _controlKeys.NextKey());
            await WriteToStreamAsync(_controlBuffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // Caller holds _writeLock. A failed or cancelled write leaves an unknown part of a frame on the wire, so the
    // connection is dropped.
    private async ValueTask WriteToStreamAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Abort();
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection was lost while sending.", ex);
        }
        catch (OperationCanceledException)
        {
            Abort();
            throw;
        }

        Volatile.Write(ref _bytesSent, _bytesSent + bytes.Length);
    }

    private Span<byte> Reserve(long frameLength)
    {
        if (_sendBuffer.Length - _sendLength < frameLength)
        {
            long size = Math.Max((long)_sendBuffer.Length * 2, _sendLength + frameLength);
            if (size > Array.MaxLength)
            {
                throw new ArgumentException($"A message of {frameLength} bytes does not fit a send buffer.");
            }

            byte[] larger = new byte[size];
            _sendBuffer.AsSpan(0, _sendLength).CopyTo(larger);
            _sendBuffer = larger;
        }

        return _sendBuffer.AsSpan(_sendLength);
    }

    private static long GetBatchFrameLength(ReadOnlySpan<Trade> trades)
    {
        if (trades.IsEmpty)
        {
            throw new ArgumentException("A batch needs at least one trade.", nameof(trades));
        }

        return ClientFrameWriter.GetFrameLength((long)trades.Length * Trade.EncodedSize);
    }

    private void ThrowIfCannotWrite()
    {
        if (_closeSent | _flushing | Volatile.Read(ref _disposed) != 0)
        {
            ThrowCannotWrite();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCannotWrite()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ClientThrowHelper.ThrowDisposed();
        }

        if (_closeSent)
        {
            ClientThrowHelper.ThrowClosing();
        }

        ClientThrowHelper.ThrowFlushInProgress();
    }
}
