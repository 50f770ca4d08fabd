namespace WsGateway.Sbe;

/// <summary>Why an SBE message could not be decoded.</summary>
/// <remarks>The numeric values are stable and may be logged or used as metric tags.</remarks>
public enum SbeDecodeStatus
{
    /// <summary>No error: the message was decoded (or, for a batch reader, the buffer ended cleanly).</summary>
    None = 0,

    /// <summary>
    /// The buffer is shorter than the message: shorter than the 8-byte header plus the
    /// header's block length (or shorter than a whole <see cref="Trade"/> when the header itself is cut).
    /// </summary>
    InsufficientData = 1,

    /// <summary>The header's schema id is not <see cref="Trade.SchemaId"/>.</summary>
    UnknownSchemaId = 2,

    /// <summary>The header's template id is not <see cref="Trade.TemplateId"/>.</summary>
    UnknownTemplateId = 3,

    /// <summary>The header's block length is smaller than <see cref="Trade.BlockLength"/>, so known fields would be missing.</summary>
    BlockLengthTooSmall = 4,
}
