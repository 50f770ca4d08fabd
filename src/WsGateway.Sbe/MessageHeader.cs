using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace WsGateway.Sbe;

/// <summary>
/// The standard SBE message header that precedes every message: four little-endian <c>uint16</c>s.
/// </summary>
/// <remarks>
/// <code>
///  0               2               4               6               8
/// +---------------+---------------+---------------+---------------+
/// |  blockLength  |  templateId   |   schemaId    |    version    |
/// +---------------+---------------+---------------+---------------+
/// </code>
/// <c>blockLength</c> is the size of the message's root block that follows the header; a decoder
/// of an older schema version uses it to skip fields appended by a newer version.
/// </remarks>
public readonly struct MessageHeader : IEquatable<MessageHeader>
{
    /// <summary>Size of the header on the wire, in bytes.</summary>
    public const int EncodedLength = 8;

    /// <summary>Offset of <see cref="BlockLength"/> in the header.</summary>
    public const int BlockLengthOffset = 0;

    /// <summary>Offset of <see cref="TemplateId"/> in the header.</summary>
    public const int TemplateIdOffset = 2;

    /// <summary>Offset of <see cref="SchemaId"/> in the header.</summary>
    public const int SchemaIdOffset = 4;

    /// <summary>Offset of <see cref="Version"/> in the header.</summary>
    public const int VersionOffset = 6;

    /// <summary>Creates a header value.</summary>
    /// <param name="blockLength">Size of the root block in bytes.</param>
    /// <param name="templateId">Message template id.</param>
    /// <param name="schemaId">Schema id.</param>
    /// <param name="version">Schema version the message was encoded with.</param>
    public MessageHeader(ushort blockLength, ushort templateId, ushort schemaId, ushort version)
    {
        BlockLength = blockLength;
        TemplateId = templateId;
        SchemaId = schemaId;
        Version = version;
    }

    /// <summary>Size of the root block that follows the header, in bytes.</summary>
    public ushort BlockLength { get; }

    /// <summary>Message template id (which message this is within the schema).</summary>
    public ushort TemplateId { get; }

    /// <summary>Schema id.</summary>
    public ushort SchemaId { get; }

    /// <summary>Schema version the message was encoded with (the acting version).</summary>
    public ushort Version { get; }

    /// <summary>Reads a header from the start of <paramref name="source"/> without validating its values.</summary>
    /// <param name="source">At least <see cref="EncodedLength"/> bytes.</param>
    /// <param name="header">The header, or default when <paramref name="source"/> is too short.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is shorter than <see cref="EncodedLength"/>.</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out MessageHeader header)
    {
        if (source.Length < EncodedLength)
        {
            header = default;
            return false;
        }

        header = FromUInt64(BinaryPrimitives.ReadUInt64LittleEndian(source));
        return true;
    }

    /// <summary>Reads a header from the start of <paramref name="source"/> without validating its values.</summary>
    /// <param name="source">At least <see cref="EncodedLength"/> bytes.</param>
    /// <returns>The header.</returns>
    /// <exception cref="SbeDecodeException"><paramref name="source"/> is shorter than <see cref="EncodedLength"/>.</exception>
    public static MessageHeader Read(ReadOnlySpan<byte> source)
    {
        if (!TryRead(source, out MessageHeader header))
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(SbeDecodeStatus.InsufficientData, EncodedLength, source.Length));
        }

        return header;
    }

    /// <summary>Writes the header to the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedLength"/> bytes.</param>
    /// <returns><see cref="EncodedLength"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public int Write(Span<byte> destination)
    {
        if (destination.Length < EncodedLength)
        {
            ThrowHelper.ThrowDestinationTooSmall(EncodedLength, destination.Length, nameof(destination));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination, ToUInt64());
        return EncodedLength;
    }

    /// <summary>The header as the little-endian <c>uint64</c> it occupies on the wire.</summary>
    internal ulong ToUInt64()
        => BlockLength | ((ulong)TemplateId << 16) | ((ulong)SchemaId << 32) | ((ulong)Version << 48);

    internal static MessageHeader FromUInt64(ulong value)
        => new((ushort)value, (ushort)(value >> 16), (ushort)(value >> 32), (ushort)(value >> 48));

    /// <summary>Compares all four fields.</summary>
    /// <param name="other">The other header.</param>
    /// <returns><see langword="true"/> when all fields are equal.</returns>
    public bool Equals(MessageHeader other) => ToUInt64() == other.ToUInt64();

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is MessageHeader other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ToUInt64().GetHashCode();

    /// <summary>Returns e.g. <c>MessageHeader { BlockLength = 21, TemplateId = 1, SchemaId = 1, Version = 0 }</c>.</summary>
    /// <returns>The fields as text.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"MessageHeader {{ BlockLength = {BlockLength}, TemplateId = {TemplateId}, SchemaId = {SchemaId}, Version = {Version} }}");

    /// <summary>Compares two headers field by field.</summary>
    /// <param name="left">The first header.</param>
    /// <param name="right">The second header.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(MessageHeader left, MessageHeader right) => left.Equals(right);

    /// <summary>Compares two headers field by field.</summary>
    /// <param name="left">The first header.</param>
    /// <param name="right">The second header.</param>
    /// <returns><see langword="true"/> when not equal.</returns>
    public static bool operator !=(MessageHeader left, MessageHeader right) => !left.Equals(right);
}
