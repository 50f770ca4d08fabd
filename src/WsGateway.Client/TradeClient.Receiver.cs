using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using WsGateway.Framing;

namespace WsGateway.Client;

public sealed partial class TradeClient
{
    private const int ReceiveBufferSize = 16 * 1024;

    private readonly PipeReader _input;
    private readonly int _maxMessageSize;
    private readonly SemaphoreSlim _receiveLock = new(1, 1);
    private readonly TaskCompletionSource _closeReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // A message that spans frames or pipe segments is copied here; one that arrived whole is returned in place.
    private readonly MessageBuffer _message;
    private bool _fragmented;
    private WebSocketMessageType _fragmentType;

    // The frame returned in place stays in the pipe until the next receive.
    private bool _consumePending;
    private SequencePosition _consumeTo;

    private readonly byte[] _pingPayload = new byte[FrameReader.MaxControlPayloadLength];
    private ClientMessage _closeMessage;

    /// <summary>
    /// Receives the next whole message from the server, or its close. Pings are answered with pongs and pongs ignored
    /// along the way; a message in fragments is reassembled; a text message is checked to be UTF-8.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait. A read cancelled half-way may leave the stream (TLS in
    /// particular) unusable, so after a cancelled receive only <see cref="CloseAsync"/> or <see cref="DisposeAsync"/> is
    /// safe; to stop a receive loop, close the client instead.</param>
    /// <returns>The message. Its payload is valid until the next <see cref="ReceiveAsync"/>, <see cref="CloseAsync"/>
    /// or <see cref="DisposeAsync"/>. After the server's close frame (which the client answers with its own close
    /// frame unless it sent one first), every call returns that close again.</returns>
    /// <exception cref="WebSocketException">The server broke the protocol (the client has sent a close frame with 1002,
    /// 1007 or 1009 and dropped the connection), or the connection was lost without a close frame.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async ValueTask<ClientMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ClientThrowHelper.ThrowDisposed();
        }

        await _receiveLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                ClientThrowHelper.ThrowDisposed();
            }

            return await ReceiveCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _receiveLock.Release();
        }
    }

    // Caller holds _receiveLock.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ClientMessage> ReceiveCoreAsync(CancellationToken cancellationToken)
    {
        if (_closeMessage.IsClose)
        {
            return _closeMessage;
        }

        ReleaseLastMessage();
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                Abort();
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection was lost while receiving.", ex);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            ControlAction action = ControlAction.None;
            int pingLength = 0;
            while (true)
            {
                FrameParseStatus status = FrameReader.TryReadFrame(buffer, FrameMasking.Forbidden, _maxMessageSize, out FrameHeader header, out ReadOnlySequence<byte> payload, out string? error);
                if (status == FrameParseStatus.Incomplete)
                {
                    break;
                }

                if (status != FrameParseStatus.Ok)
                {
                    _input.AdvanceTo(buffer.Start);
                    throw await FailAsync(
                        status == FrameParseStatus.TooLarge ? Framing.CloseStatus.MessageTooBig : Framing.CloseStatus.ProtocolError,
                        status == FrameParseStatus.TooLarge ? $"{error}: over the {_maxMessageSize}-byte message limit" : error!).ConfigureAwait(false);
                }

                SequencePosition next = payload.End;
                if (header.IsControl)
                {
                    if (header.Opcode == WebSocketOpcode.Ping)
                    {
                        payload.CopyTo(_pingPayload);
                        pingLength = (int)payload.Length;
                        action = ControlAction.Pong;
                    }
                    else if (header.Opcode == WebSocketOpcode.Close)
                    {
                        byte[] closePayload = payload.ToArray();
                        _input.AdvanceTo(next);
                        return await OnCloseFrameAsync(closePayload, cancellationToken).ConfigureAwait(false);
                    }

                    // A pong needs nothing; a ping is answered once the pipe is advanced past it.
                    buffer = buffer.Slice(next);
                    if (action == ControlAction.Pong)
                    {
                        break;
                    }

                    continue;
                }

                bool continuation = header.Opcode == WebSocketOpcode.Continuation;
                if (continuation != _fragmented)
                {
                    _input.AdvanceTo(buffer.Start);
                    throw await FailAsync(Framing.CloseStatus.ProtocolError, continuation
                        ? "Continuation frame without a message to continue"
                        : $"{header.Opcode} frame inside a fragmented message").ConfigureAwait(false);
                }

                WebSocketMessageType type = continuation ? _fragmentType
                    : header.Opcode == WebSocketOpcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                if (header.Fin && !_fragmented && payload.IsSingleSegment)
                {
                    // The common case: the whole message in one frame in one buffer segment, returned in place.
                    ReadOnlyMemory<byte> data = payload.First;
                    if (type == WebSocketMessageType.Text && !Utf8.IsValid(data.Span))
                    {
                        _input.AdvanceTo(buffer.Start);
                        throw await FailAsync(Framing.CloseStatus.InvalidPayload, "Invalid UTF-8 in a text message").ConfigureAwait(false);
                    }

                    _consumeTo = next;
                    _consumePending = true;
                    return new ClientMessage(type, data);
                }

                if (!_fragmented)
                {
                    _fragmented = true;
                    _fragmentType = type;
                    _message.Clear();
                }

                if (!_message.TryAppend(payload))
                {
                    _input.AdvanceTo(buffer.Start);
                    throw await FailAsync(Framing.CloseStatus.MessageTooBig, $"Message over the {_maxMessageSize}-byte limit").ConfigureAwait(false);
                }

                buffer = buffer.Slice(next);
                if (header.Fin)
                {
                    _fragmented = false;
                    _input.AdvanceTo(next);
                    if (type == WebSocketMessageType.Text && !Utf8.IsValid(_message.WrittenSpan))
                    {
                        throw await FailAsync(Framing.CloseStatus.InvalidPayload, "Invalid UTF-8 in a text message").ConfigureAwait(false);
                    }

                    return new ClientMessage(type, _message.WrittenMemory);
                }
            }

            if (action == ControlAction.Pong)
            {
                _input.AdvanceTo(buffer.Start);
                await SendControlAsync(WebSocketOpcode.Pong, _pingPayload.AsMemory(0, pingLength), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (result.IsCompleted)
            {
                _input.AdvanceTo(buffer.End);
                Abort();
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, buffer.IsEmpty
                    ? "The server closed the connection without a close frame."
                    : "The server closed the connection in the middle of a frame.");
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async ValueTask<ClientMessage> OnCloseFrameAsync(byte[] payload, CancellationToken cancellationToken)
    {
        CloseParseResult parsed = Framing.CloseStatus.Parse(payload, out ushort code, out ReadOnlySpan<byte> reasonBytes);
        if (parsed != CloseParseResult.Ok)
        {
            throw await FailAsync(
                parsed == CloseParseResult.InvalidPayload ? Framing.CloseStatus.InvalidPayload : Framing.CloseStatus.ProtocolError,
                parsed == CloseParseResult.InvalidPayload ? "Close reason is not valid UTF-8" : $"Invalid close frame payload (code {code}, {payload.Length} bytes)").ConfigureAwait(false);
        }

        string reason = Encoding.UTF8.GetString(reasonBytes);
        SetCloseStatus(code, reason);
        _closeMessage = new ClientMessage(WebSocketMessageType.Close, ReadOnlyMemory<byte>.Empty, code, reason);

        // Answer with the same code (§5.5.1) unless our own close frame went first; the server then closes TCP.
        try
        {
            await SendCloseAsync(code, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _closeReceived.TrySetResult();
        }

        return _closeMessage;
    }

    /// <summary>Fails the connection (§7.1.7): sends a close frame with <paramref name="code"/> unless one was sent,
    /// drops TCP, and returns the exception for the receive to throw.</summary>
    private async ValueTask<WebSocketException> FailAsync(ushort code, string reason)
    {
        SetCloseStatus(code, reason);
        try
        {
            using var timeout = new CancellationTokenSource(_closeTimeout);
            await SendCloseAsync(code, reason.Length > FrameWriter.MaxCloseReasonLength ? reason[..FrameWriter.MaxCloseReasonLength] : reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Best effort: the connection is being dropped anyway.
        }

        Abort();
        _closeReceived.TrySetResult();
        return new WebSocketException(WebSocketError.Faulted, $"The server broke the WebSocket protocol: {reason}. The client closed the connection with {code}.");
    }

    /// <summary>Waits for the end of the TCP stream, discarding anything before it. Caller holds _receiveLock.</summary>
    private async Task WaitForEndOfStreamAsync(CancellationToken cancellationToken)
    {
        ReleaseLastMessage();
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private void ReleaseLastMessage()
    {
        if (_consumePending)
        {
            _consumePending = false;
            _input.AdvanceTo(_consumeTo);
        }
    }

    private enum ControlAction
    {
        None,
        Pong,
    }
}
