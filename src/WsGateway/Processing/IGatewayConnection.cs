using System.Net;
using System.Security.Claims;

namespace WsGateway;

/// <summary>
/// One client's WebSocket connection, as a handler sees it.
/// </summary>
/// <remarks>
/// <see cref="Send"/> is for replies from inside a handler callback (acks, echo): the frame is written at once and
/// flushed to the socket when the callback returns, together with every other reply of that read. From any other
/// thread, use <see cref="SendAsync"/>. Both are safe to call after the connection closed: the message is then
/// dropped and <see langword="false"/> returned.
/// </remarks>
public interface IGatewayConnection
{
    /// <summary>The connection's id, unique within the process.</summary>
    long Id { get; }

    /// <summary>The client's address and port, when the transport knows it.</summary>
    EndPoint? RemoteEndPoint { get; }

    /// <summary>The local address and port the client connected to, when the transport knows it.</summary>
    EndPoint? LocalEndPoint { get; }

    /// <summary>The request path of the WebSocket handshake (for example <c>/trades</c>).</summary>
    string Path { get; }

    /// <summary>The identity established at the handshake (ASP.NET Core authentication or the standalone server's
    /// validator); an unauthenticated principal when there was none.</summary>
    ClaimsPrincipal User { get; }

    /// <summary>Sends one binary message from inside a handler callback; flushed when the callback returns.</summary>
    /// <param name="message">The payload; copied into the send buffer before the call returns.</param>
    /// <returns><see langword="false"/> when the connection is closing or closed and the message was dropped.</returns>
    bool Send(ReadOnlySpan<byte> message);

    /// <summary>Sends one binary message from any thread and waits until it was handed to the transport.</summary>
    /// <param name="message">The payload.</param>
    /// <param name="cancellationToken">Cancels the wait for the send buffer.</param>
    /// <returns><see langword="false"/> when the connection is closing or closed and the message was dropped.</returns>
    ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>Starts the closing handshake with the given status code; messages that arrive before the client's
    /// answering close frame are still delivered.</summary>
    /// <param name="code">A close code valid on the wire (1000, 1001, 1008, 1011, 3000-4999, ...).</param>
    /// <param name="reason">An optional reason, at most 123 UTF-8 bytes (longer reasons are truncated).</param>
    void Close(ushort code = 1000, string? reason = null);

    /// <summary>Stops reading from this connection after the messages of the current read have been delivered:
    /// the client's bytes stay in the kernel and TCP flow control slows the client down (backpressure, for example
    /// from a sink that has too much unacknowledged). Keep-alive and idle timeouts do not count while paused.
    /// Idempotent; safe from any thread.</summary>
    void PauseReceiving();

    /// <summary>Reads again after <see cref="PauseReceiving"/>. Idempotent; safe from any thread. A graceful shutdown
    /// resumes every paused connection so that the clients' closing handshakes are read.</summary>
    void ResumeReceiving();

    /// <summary>Whether <see cref="PauseReceiving"/> is in effect.</summary>
    bool IsReceivingPaused { get; }
}
