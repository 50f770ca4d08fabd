using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using WsGateway.Sbe;

namespace WsGateway;

/// <summary>What <see cref="TradeMessageProcessor{THandler}.Process"/> did with a message.</summary>
public enum ProcessResult
{
    /// <summary>The message (one trade or a batch) reached the handler, which returned normally.</summary>
    Delivered,

    /// <summary>The message was not a valid trade or batch; the handler's <c>OnError</c> was told why.</summary>
    Rejected,

    /// <summary>The handler threw; its <c>OnError</c> was told.</summary>
    HandlerFailed,
}

/// <summary>Creates <see cref="TradeMessageProcessor{THandler}"/> instances.</summary>
public static class TradeMessageProcessor
{
    /// <summary>Creates a processor that dispatches to <paramref name="handler"/>. A struct handler type is
    /// devirtualised by the JIT.</summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="handler">The handler.</param>
    /// <param name="connectionId">The connection id reported in errors.</param>
    /// <returns>The processor.</returns>
    public static TradeMessageProcessor<THandler> Create<THandler>(THandler handler, long connectionId = 0)
        where THandler : ITradeMessageHandler
        => new(handler, connectionId);
}

/// <summary>
/// Dispatches complete binary WebSocket messages to an <see cref="ITradeMessageHandler"/>: one SBE <c>Trade</c>
/// goes to <c>OnTrade</c>, several back to back to <c>OnTrades</c>, anything else to <c>OnError</c> with the reason.
/// </summary>
/// <remarks>
/// The processor only peeks at the 8-byte SBE message headers (block length, template id, schema id); it neither
/// copies nor allocates for a valid message. One instance serves one connection and is not thread-safe.
/// </remarks>
/// <typeparam name="THandler">The handler type; a struct type is devirtualised by the JIT.</typeparam>
public sealed class TradeMessageProcessor<THandler>
    where THandler : ITradeMessageHandler
{
    private const int HeaderLength = MessageHeader.EncodedLength;

    private THandler _handler;
    private readonly long _connectionId;
    private long _messages;
    private long _trades;
    private long _decodeErrors;
    private long _handlerErrors;

    /// <summary>Creates a processor for one connection.</summary>
    /// <param name="handler">The handler that receives the messages.</param>
    /// <param name="connectionId">The connection id reported in errors.</param>
    public TradeMessageProcessor(THandler handler, long connectionId = 0)
    {
        _handler = handler;
        _connectionId = connectionId;
    }

    /// <summary>The handler messages are dispatched to.</summary>
    public THandler Handler => _handler;

    /// <summary>Binary messages given to <see cref="Process"/> so far.</summary>
    public long MessagesProcessed => _messages;

    /// <summary>Trades delivered to the handler so far (a batch counts each trade).</summary>
    public long TradesDelivered => _trades;

    /// <summary>Messages rejected as not being valid trades.</summary>
    public long DecodeErrors => _decodeErrors;

    /// <summary>Callbacks that threw.</summary>
    public long HandlerErrors => _handlerErrors;

    /// <summary>Hands one complete binary message to the handler.</summary>
    /// <param name="message">The whole message payload (unmasked).</param>
    /// <returns>What happened to it.</returns>
    public ProcessResult Process(ReadOnlySpan<byte> message)
    {
        long number = ++_messages;
        if (message.Length < HeaderLength)
        {
            return Reject(number, new SbeDecodeError(SbeDecodeStatus.InsufficientData, Trade.EncodedSize, message.Length));
        }

        ulong header = BinaryPrimitives.ReadUInt64LittleEndian(message);
        int blockLength = (ushort)header;
        ushort templateId = (ushort)(header >> 16);
        ushort schemaId = (ushort)(header >> 32);
        SbeDecodeError headerError = Trade.ValidateHeader(blockLength, templateId, schemaId);
        if (headerError.IsError)
        {
            return Reject(number, headerError);
        }

        int messageSize = HeaderLength + blockLength;
        if (message.Length == messageSize)
        {
            try
            {
                _handler.OnTrade(message);
            }
            catch (Exception ex)
            {
                return HandlerFailed(number, ex);
            }

            _trades++;
            return ProcessResult.Delivered;
        }

        if (message.Length < messageSize)
        {
            return Reject(number, new SbeDecodeError(SbeDecodeStatus.InsufficientData, messageSize, message.Length));
        }

        int count = Math.DivRem(message.Length, messageSize, out int rest);
        if (rest != 0)
        {
            return Reject(number, Trailing(message.Length, messageSize, count, rest));
        }

        // Every message of a batch has the same header: one 8-byte compare each.
        for (int offset = messageSize; offset < message.Length; offset += messageSize)
        {
            ulong other = BinaryPrimitives.ReadUInt64LittleEndian(message.Slice(offset));
            if (other != header)
            {
                return Reject(number, BatchHeaderMismatch(offset / messageSize, offset, header, other));
            }
        }

        try
        {
            _handler.OnTrades(message, messageSize);
        }
        catch (Exception ex)
        {
            return HandlerFailed(number, ex);
        }

        _trades += count;
        return ProcessResult.Delivered;
    }

    /// <summary>Reports an error to the handler's <c>OnError</c>; an exception thrown there is swallowed so that
    /// it cannot take the connection's loop down.</summary>
    /// <param name="error">The error.</param>
    public void ReportError(WsError error)
    {
        try
        {
            _handler.OnError(error);
        }
        catch (Exception)
        {
            // OnError is the last resort; the connection's log records errors independently.
        }
    }

    private ProcessResult Reject(long number, SbeDecodeError error) => Reject(number, error.ToString());

    private ProcessResult Reject(long number, string reason)
    {
        _decodeErrors++;
        ReportError(new WsError(WsErrorKind.Decode, reason, _connectionId, number));
        return ProcessResult.Rejected;
    }

    private ProcessResult HandlerFailed(long number, Exception ex)
    {
        _handlerErrors++;
        ReportError(new WsError(WsErrorKind.Handler, $"Handler threw {ex.GetType().Name}: {ex.Message}", _connectionId, number, Exception: ex));
        return ProcessResult.HandlerFailed;
    }

    // Error texts are built off the hot path, in methods the JIT does not inline into Process; header errors come from
    // Trade.ValidateHeader, the codec's own check, so a message is refused in the same words wherever it is decoded.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Trailing(int length, int messageSize, int count, int rest)
        => $"Trailing data: {length} bytes is not a whole number of {messageSize}-byte Trade messages ({count} whole, {rest} bytes left over)";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string BatchHeaderMismatch(int index, int offset, ulong first, ulong other)
        => $"Batch message {index} at offset {offset}: expected the header of the first message "
            + $"(block length {(ushort)first}, template id {(ushort)(first >> 16)}, schema id {(ushort)(first >> 32)}, version {(ushort)(first >> 48)}), "
            + $"got block length {(ushort)other}, template id {(ushort)(other >> 16)}, schema id {(ushort)(other >> 32)}, version {(ushort)(other >> 48)}";
}
