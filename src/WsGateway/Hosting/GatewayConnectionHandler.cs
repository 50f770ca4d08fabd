using Microsoft.AspNetCore.Connections;
using WsGateway.Connections;

namespace WsGateway.Hosting;

/// <summary>
/// Kestrel's side of the standalone server: each accepted TCP connection's duplex pipe becomes a
/// <see cref="WebSocketConnection"/>, whose task is the connection's lifetime.
/// </summary>
internal sealed class GatewayConnectionHandler(ConnectionManager manager) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection)
        => new WebSocketConnection(connection.Transport, manager, connection.RemoteEndPoint, connection.LocalEndPoint).RunAsync();
}
