namespace WsGateway.Framing;

/// <summary>What the reader enforces about the MASK bit (RFC 6455 §5.1).</summary>
internal enum FrameMasking
{
    /// <summary>Masked and unmasked frames are both accepted; <see cref="FrameHeader.Masked"/> says which.</summary>
    Any,

    /// <summary>Server role: every frame from a client must be masked.</summary>
    Required,

    /// <summary>Client role: a frame from a server must not be masked.</summary>
    Forbidden,
}
