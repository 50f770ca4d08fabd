namespace WsGateway;

/// <summary>How a connection ended.</summary>
/// <param name="Code">The close code: the one both sides agreed on in a closing handshake, or 1006 (abnormal
/// closure) when the connection ended without one.</param>
/// <param name="Reason">The close reason, when one was given.</param>
/// <param name="InitiatedByClient"><see langword="true"/> when the client sent the first close frame or dropped the
/// connection; <see langword="false"/> when the gateway closed it (error, timeout, shutdown).</param>
/// <param name="Clean"><see langword="true"/> when the closing handshake completed: both sides sent a close frame.</param>
public readonly record struct WebSocketCloseInfo(ushort Code, string? Reason, bool InitiatedByClient, bool Clean);
