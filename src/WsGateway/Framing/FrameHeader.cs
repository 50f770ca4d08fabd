namespace WsGateway.Framing;

/// <summary>A parsed RFC 6455 frame header (§5.2). Produced by <see cref="FrameReader"/>.</summary>
internal readonly struct FrameHeader
{
    public FrameHeader(bool fin, byte reserved, byte rawOpcode, bool masked, int maskKey, long payloadLength, int headerLength)
    {
        Fin = fin;
        Reserved = reserved;
        RawOpcode = rawOpcode;
        Masked = masked;
        MaskKey = maskKey;
        PayloadLength = payloadLength;
        HeaderLength = headerLength;
    }

    /// <summary>FIN bit: this is the final fragment of a message.</summary>
    public bool Fin { get; }

    /// <summary>RSV1-3 as a 3-bit number: RSV1 = 0b100, RSV2 = 0b010, RSV3 = 0b001.</summary>
    public byte Reserved { get; }

    /// <summary>The 4-bit opcode as sent.</summary>
    public byte RawOpcode { get; }

    public WebSocketOpcode Opcode => (WebSocketOpcode)RawOpcode;

    /// <summary>MASK bit.</summary>
    public bool Masked { get; }

    /// <summary>
    /// The 4 masking-key bytes loaded little-endian (wire byte 0 is the low byte), the form
    /// <see cref="Masking.Apply(Span{byte}, int, int)"/> takes. Zero when <see cref="Masked"/> is false.
    /// </summary>
    public int MaskKey { get; }

    /// <summary>Payload length in bytes (0 to 2^63-1, already checked against the reader's limit).</summary>
    public long PayloadLength { get; }

    /// <summary>Bytes the header occupies on the wire: 2 to 14.</summary>
    public int HeaderLength { get; }

    /// <summary>Header plus payload.</summary>
    public long FrameLength => HeaderLength + PayloadLength;

    /// <summary>Close, Ping, Pong (and reserved 0xB-0xF): the opcode's high bit is set.</summary>
    public bool IsControl => (RawOpcode & 0x8) != 0;

    public override string ToString()
        => $"{Opcode} fin={Fin} masked={Masked} payload={PayloadLength} header={HeaderLength}";
}
