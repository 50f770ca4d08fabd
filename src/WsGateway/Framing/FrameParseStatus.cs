namespace WsGateway.Framing;

/// <summary>Outcome of <see cref="FrameReader.TryReadHeader(in System.Buffers.ReadOnlySequence{byte}, bool, long, out FrameHeader, out string?)"/>.</summary>
internal enum FrameParseStatus
{
    /// <summary>More bytes are needed; nothing was consumed. Read again once more data has arrived.</summary>
    Incomplete,

    /// <summary>A valid header was read.</summary>
    Ok,

    /// <summary>The frame violates RFC 6455; close with <see cref="CloseStatus.ProtocolError"/> (1002).</summary>
    ProtocolError,

    /// <summary>The declared payload length exceeds the limit; close with <see cref="CloseStatus.MessageTooBig"/> (1009).</summary>
    TooLarge,
}
