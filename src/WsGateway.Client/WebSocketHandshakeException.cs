namespace WsGateway.Client;

/// <summary>
/// The server did not accept the WebSocket opening handshake: it answered with a status other than
/// 101 Switching Protocols, or its 101 response did not prove it read the request (RFC 6455 §4.1).
/// </summary>
/// <remarks>The gateway explains a refusal in the response body, for example <c>503</c> with
/// "Connection limit reached: 10000 connections are open"; <see cref="ResponseBody"/> carries that text.</remarks>
public sealed class WebSocketHandshakeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The response's HTTP status code; 0 when no valid status line was received.</param>
    /// <param name="responseBody">The response body as text, possibly empty.</param>
    /// <param name="message">What went wrong.</param>
    public WebSocketHandshakeException(int statusCode, string responseBody, string message)
        : base(message)
    {
        StatusCode = statusCode;
        ResponseBody = responseBody ?? string.Empty;
    }

    /// <summary>Creates the exception with no status and no body.</summary>
    public WebSocketHandshakeException()
        : this(0, string.Empty, "The WebSocket handshake failed.")
    {
    }

    /// <summary>Creates the exception with no status and no body.</summary>
    /// <param name="message">What went wrong.</param>
    public WebSocketHandshakeException(string message)
        : this(0, string.Empty, message)
    {
    }

    /// <summary>Creates the exception with no status and no body.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public WebSocketHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
        ResponseBody = string.Empty;
    }

    /// <summary>The response's HTTP status code (for example 503, or 101 when a 101 response failed validation);
    /// 0 when no valid status line was received.</summary>
    public int StatusCode { get; }

    /// <summary>The response body decoded as UTF-8 (at most 64 KiB of it); empty when there was none.</summary>
    public string ResponseBody { get; }
}
