using System.Net;
using Microsoft.Extensions.Logging;

namespace WsGateway.Connections;

/// <summary>The connection layer's logs, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} from {RemoteEndPoint} opened a WebSocket on {Path}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, EndPoint? remoteEndPoint, string path);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed with {CloseCode} (clean: {Clean}) after {Messages} messages")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, ushort closeCode, bool clean, long messages);

    [LoggerMessage(3, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint}: handshake refused with {StatusCode}: {Reason}")]
    public static partial void HandshakeRejected(ILogger logger, long connectionId, EndPoint? remoteEndPoint, int statusCode, string reason);

    [LoggerMessage(4, LogLevel.Information, "Connection {ConnectionId}: closing with {CloseCode}: {Reason}")]
    public static partial void ProtocolError(ILogger logger, long connectionId, ushort closeCode, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Connection {ConnectionId}: handler threw")]
    public static partial void HandlerError(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId}: transport failed")]
    public static partial void TransportError(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Connection {ConnectionId}: {Reason}")]
    public static partial void ConnectionAborted(ILogger logger, long connectionId, string reason);

    [LoggerMessage(8, LogLevel.Warning, "Connection {ConnectionId}: a handler callback threw; see OnError")]
    public static partial void HandlerFailed(ILogger logger, long connectionId);

    [LoggerMessage(9, LogLevel.Warning, "Connection {ConnectionId}: the handshake validator threw; answered 500")]
    public static partial void ValidatorFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "Connection {ConnectionId}: closing with 1008, message rate limit exceeded ({Limit})")]
    public static partial void RateLimitExceeded(ILogger logger, long connectionId, string limit);

    [LoggerMessage(11, LogLevel.Error, "Shutdown: {Connections} connections still busy in a handler callback {Seconds} s after being aborted; stopping without them")]
    public static partial void ShutdownAbandoned(ILogger logger, int connections, double seconds);

    [LoggerMessage(12, LogLevel.Information, "Connection {ConnectionId}: slow consumer: {Reason}")]
    public static partial void SlowConsumer(ILogger logger, long connectionId, string reason);

    [LoggerMessage(13, LogLevel.Error, "Connection {ConnectionId}: the heartbeat's timeout check failed; the other connections go on")]
    public static partial void HeartbeatFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(14, LogLevel.Error, "Event loop {Loop}: {Message}")]
    public static partial void EventLoopError(ILogger logger, int loop, string message, Exception? exception);

    [LoggerMessage(15, LogLevel.Warning, "Event loop {Loop}: accept failed: {Message}; {Action} until it succeeds again (logged once; raise the limit: ulimit -n, see docs/tuning.md)")]
    public static partial void AcceptFailing(ILogger logger, int loop, string message, string action);

    [LoggerMessage(16, LogLevel.Warning, "File descriptors: the process may open {Limit} (RLIMIT_NOFILE), {InUse} are open and {Reserve} are kept free (ReservedFileDescriptors), which leaves room for {Available} client sockets: MaxConnections {RequestedConnections} and MaxPendingHandshakes {RequestedPending} are lowered to {MaxConnections} and {MaxPendingHandshakes}; raise the limit (ulimit -n, LimitNOFILE) to serve more, see docs/tuning.md")]
    public static partial void DescriptorLimitFitted(ILogger logger, long limit, int inUse, int reserve, long available, int requestedConnections, int requestedPending, int maxConnections, int maxPendingHandshakes);

    [LoggerMessage(17, LogLevel.Information, "Event loop {Loop}: accepting again after {Seconds:0.0} s; {Refused} connections were refused at the accept meanwhile")]
    public static partial void AcceptRecovered(ILogger logger, int loop, double seconds, long refused);

    [LoggerMessage(18, LogLevel.Warning, "Kestrel transport: {Sockets} client sockets are open, all the file descriptor limit leaves room for; new connections wait in the listen backlog until one closes (logged once; raise the limit: ulimit -n, see docs/tuning.md)")]
    public static partial void SocketsExhausted(ILogger logger, int sockets);

    [LoggerMessage(19, LogLevel.Information, "Kestrel transport: accepting again without waiting for a client socket to close")]
    public static partial void SocketsAvailable(ILogger logger);
}
