using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace WsGateway.Sbe;

/// <summary>
/// One trade, and the codec for its 29-byte SBE message (template 1 of schema 1, <c>schemas/trade.xml</c>).
/// </summary>
/// <remarks>
/// <para>Wire format, little-endian, no padding:</para>
/// <code>
///  0        8         16      17        25        29
/// +--------+----------+-------+---------+---------+
/// | header | tradeId  |symbol |  price  |quantity |
/// |   8    | uint64   | char  | double  | uint32  |
/// +--------+----------+-------+---------+---------+
/// header = blockLength 21, templateId 1, schemaId 1, version 0 (four uint16; version 1 is accepted as well)
/// </code>
/// <para>
/// Decoding accepts a header with a larger block length (a newer schema version that appended
/// fields): the known fields are read and the message is <c>8 + blockLength</c> bytes long.
/// Encoding and decoding do not allocate.
/// </para>
/// </remarks>
public readonly struct Trade : IEquatable<Trade>
{
    /// <summary>Size of an encoded trade, header included: 8 + 21 = 29 bytes.</summary>
    public const int EncodedSize = MessageHeader.EncodedLength + BlockLength;

    /// <summary>Size of the root block (the fields after the header) in schema version 0.</summary>
    public const int BlockLength = TradeDecoder.SbeBlockLength;

    /// <summary>Template id of the Trade message.</summary>
    public const int TemplateId = TradeDecoder.SbeTemplateId;

    /// <summary>Id of the schema the Trade message belongs to.</summary>
    public const int SchemaId = TradeDecoder.SbeSchemaId;

    /// <summary>Schema version this codec writes into the header: 0. Trade is the same in versions 0 and 1 of
    /// schemas/trade.xml (version 1 added a field to <see cref="TradeAck"/> only), so clients keep writing version 0,
    /// which gateways of either version accept; decoding accepts any version. (The generated
    /// <see cref="TradeEncoder"/>'s <c>WrapAndApplyHeader</c> writes the schema's version, 1, as SBE flyweights do.)</summary>
    public const int SchemaVersion = 0;

    // Declared widest first so the struct is 24 bytes.
    private readonly ulong _tradeId;
    private readonly double _price;
    private readonly uint _quantity;
    private readonly byte _symbol;

    /// <summary>Creates a trade.</summary>
    /// <param name="tradeId">Trade identifier.</param>
    /// <param name="symbol">Instrument symbol: one ASCII character as a byte. Any byte value is carried as is.</param>
    /// <param name="price">Price; every double, NaN payloads included, round-trips bit for bit.</param>
    /// <param name="quantity">Quantity.</param>
    public Trade(ulong tradeId, byte symbol, double price, uint quantity)
    {
        _tradeId = tradeId;
        _symbol = symbol;
        _price = price;
        _quantity = quantity;
    }

    /// <summary>Trade identifier.</summary>
    public ulong TradeId => _tradeId;

    /// <summary>Instrument symbol as the byte on the wire.</summary>
    public byte Symbol => _symbol;

    /// <summary>Instrument symbol as a character (the byte read as Latin-1, which is ASCII for 0–127).</summary>
    public char SymbolChar => (char)_symbol;

    /// <summary>Price.</summary>
    public double Price => _price;

    /// <summary>Quantity.</summary>
    public uint Quantity => _quantity;

    /// <summary>Writes the 29-byte message (header and fields) to the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes.</param>
    /// <returns><see cref="EncodedSize"/>, the number of bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedSize"/>; the message names both sizes.</exception>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
        {
            ThrowHelper.ThrowDestinationTooSmall(EncodedSize, destination.Length, nameof(destination));
        }

        TradeCodec.WriteMessage(this, destination);
        return EncodedSize;
    }

    /// <summary>Returns the 29-byte message in a new array.</summary>
    /// <returns>The encoded message.</returns>
    public byte[] Encode()
    {
        byte[] bytes = new byte[EncodedSize];
        TradeCodec.WriteMessage(this, bytes);
        return bytes;
    }

    /// <summary>Decodes the message at the start of <paramref name="source"/>; never throws.</summary>
    /// <param name="source">The message; bytes after it are ignored.</param>
    /// <param name="trade">The trade, or default when decoding failed.</param>
    /// <returns><see langword="true"/> when a trade was decoded.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, out Trade trade)
    {
        if (TradeCodec.IsPlainTrade(source))
        {
            trade = TradeCodec.ReadMessage(source);
            return true;
        }

        trade = TradeCodec.DecodeSlow(source, out _, out SbeDecodeError error);
        return !error.IsError;
    }

    /// <summary>
    /// Decodes the message at the start of <paramref name="source"/>; never throws. On failure
    /// <paramref name="error"/> says why, without allocating: switch on <see cref="SbeDecodeError.Status"/>,
    /// or render the text with <see cref="SbeDecodeError.TryFormat"/> or <see cref="SbeDecodeError.ToString()"/>.
    /// </summary>
    /// <param name="source">The message; bytes after it are ignored (compare <paramref name="bytesConsumed"/> with the length to detect them).</param>
    /// <param name="trade">The trade, or default when decoding failed.</param>
    /// <param name="bytesConsumed">The message length, <c>8 + blockLength</c> (29 for version 0), or 0 when decoding failed.</param>
    /// <param name="error">Default (<see cref="SbeDecodeStatus.None"/>) on success, otherwise the reason.</param>
    /// <returns><see langword="true"/> when a trade was decoded.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, out Trade trade, out int bytesConsumed, out SbeDecodeError error)
        => TradeCodec.TryDecode(source, out trade, out bytesConsumed, out error);

    /// <summary>
    /// Checks that an SBE message header is a Trade's: the schema id, then the template id, then a block length of at
    /// least <see cref="BlockLength"/> (a newer schema version may append fields; the version itself is not checked).
    /// This is the one header check of the library: <see cref="TryDecode(ReadOnlySpan{byte}, out Trade, out int, out SbeDecodeError)"/>,
    /// <see cref="TradeDecoder"/> and the gateway all call it, so the same bytes are refused in the same words
    /// wherever they are decoded. Never allocates.
    /// </summary>
    /// <param name="blockLength">The header's block length.</param>
    /// <param name="templateId">The header's template id.</param>
    /// <param name="schemaId">The header's schema id.</param>
    /// <returns>Default (<see cref="SbeDecodeStatus.None"/>) for a Trade header, otherwise the first field that is wrong.</returns>
    public static SbeDecodeError ValidateHeader(int blockLength, int templateId, int schemaId)
        => schemaId == SchemaId && templateId == TemplateId && blockLength >= BlockLength
            ? default
            : TradeCodec.HeaderError(blockLength, templateId, schemaId);

    /// <summary>Decodes the message at the start of <paramref name="source"/>.</summary>
    /// <param name="source">The message; bytes after it are ignored.</param>
    /// <returns>The trade.</returns>
    /// <exception cref="SbeDecodeException">The message is malformed; <see cref="SbeDecodeException.Status"/> says how.</exception>
    public static Trade Decode(ReadOnlySpan<byte> source) => TradeCodec.Decode(source);

    /// <summary>
    /// Writes <paramref name="trades"/> as messages back to back, with no gaps, to the start of <paramref name="destination"/>.
    /// </summary>
    /// <param name="trades">The trades.</param>
    /// <param name="destination">At least <c>trades.Length * 29</c> bytes.</param>
    /// <returns>The number of bytes written, <c>trades.Length * 29</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small; the message names both sizes. Nothing is written.</exception>
    public static int EncodeToBuffer(ReadOnlySpan<Trade> trades, Span<byte> destination)
    {
        long required = (long)trades.Length * EncodedSize;
        if (destination.Length < required)
        {
            ThrowHelper.ThrowDestinationTooSmall(required, destination.Length, nameof(destination));
        }

        int offset = 0;
        foreach (ref readonly Trade trade in trades)
        {
            TradeCodec.WriteMessage(trade, destination[offset..]);
            offset += EncodedSize;
        }

        return offset;
    }

    /// <summary>Decodes the message that starts <paramref name="offset"/> bytes into <paramref name="buffer"/>.</summary>
    /// <param name="buffer">A buffer of messages, e.g. one written by <see cref="EncodeToBuffer"/>.</param>
    /// <param name="offset">Byte offset of the message (the i-th message of a version 0 batch is at <c>i * 29</c>).</param>
    /// <returns>The trade.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="SbeDecodeException">The message is malformed.</exception>
    public static Trade DecodeFromBuffer(ReadOnlySpan<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        return Decode(buffer[offset..]);
    }

    /// <summary>
    /// Bitwise equality: the price compares by its IEEE 754 bits, so a NaN equals the same NaN
    /// (a decoded message equals what was encoded) while <c>0.0</c> and <c>-0.0</c> differ.
    /// </summary>
    /// <param name="other">The other trade.</param>
    /// <returns><see langword="true"/> when all four fields have identical bits.</returns>
    public bool Equals(Trade other)
        => _tradeId == other._tradeId
        && _symbol == other._symbol
        && BitConverter.DoubleToInt64Bits(_price) == BitConverter.DoubleToInt64Bits(other._price)
        && _quantity == other._quantity;

    /// <inheritdoc cref="Equals(Trade)"/>
    /// <param name="obj">The other object.</param>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Trade other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
        => HashCode.Combine(_tradeId, _symbol, BitConverter.DoubleToInt64Bits(_price), _quantity);

    /// <summary>
    /// Returns e.g. <c>Trade { TradeId = 12345, Symbol = 'B', Price = 100.5, Quantity = 1000 }</c>, culture-invariant,
    /// the price in shortest round-trip form; a symbol outside printable ASCII is shown as hex (<c>0x07</c>).
    /// </summary>
    /// <returns>The fields as text.</returns>
    public override string ToString()
        => _symbol is >= 0x20 and <= 0x7E
            ? string.Create(CultureInfo.InvariantCulture, $"Trade {{ TradeId = {_tradeId}, Symbol = '{SymbolChar}', Price = {_price:R}, Quantity = {_quantity} }}")
            : string.Create(CultureInfo.InvariantCulture, $"Trade {{ TradeId = {_tradeId}, Symbol = 0x{_symbol:X2}, Price = {_price:R}, Quantity = {_quantity} }}");

    /// <summary>Bitwise equality, see <see cref="Equals(Trade)"/>.</summary>
    /// <param name="left">The first trade.</param>
    /// <param name="right">The second trade.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(Trade left, Trade right) => left.Equals(right);

    /// <summary>Bitwise equality, see <see cref="Equals(Trade)"/>.</summary>
    /// <param name="left">The first trade.</param>
    /// <param name="right">The second trade.</param>
    /// <returns><see langword="true"/> when not equal.</returns>
    public static bool operator !=(Trade left, Trade right) => !left.Equals(right);
}
