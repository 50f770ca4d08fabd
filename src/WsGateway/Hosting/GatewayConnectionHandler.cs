using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using WsGateway.Connections;

namespace WsGateway.Hosting;

/// <summary>
/// Kestrel's side of the standalone server: each accepted TCP connection's duplex pipe becomes a
/// <see cref="WebSocketConnection"/>, whose task is the connection's lifetime.
/// </summary>
internal sealed class GatewayConnectionHandler(ConnectionManager manager) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        // With wss:// Kestrel's TLS middleware runs first: the transport carries decrypted bytes and the feature
        // tells that the connection is secure (and which certificate the client presented, if asked for one).
        ITlsConnectionFeature? tls = connection.Features.Get<ITlsConnectionFeature>();
        return new WebSocketConnection(connection.Transport, manager, connection.RemoteEndPoint, connection.LocalEndPoint, tls is not null, tls?.ClientCertificate).RunAsync();
    }
}
