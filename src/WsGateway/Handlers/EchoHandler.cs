using WsGateway.Connections;

namespace WsGateway.Handlers;

/// <summary>
/// Sends every complete message back to its client with its opcode, text included (text is checked to be UTF-8
/// first). This is what protocol conformance suites such as Autobahn's expect of the server under test.
/// </summary>
public sealed class EchoHandler : IRawMessageHandler
{
    private IGatewayConnection? _connection;

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection) => _connection = connection;

    /// <inheritdoc />
    public void OnMessage(ReadOnlySpan<byte> payload, bool isText)
    {
        if (_connection is ITextSender sender)
        {
            sender.Send(payload, isText);
        }
        else
        {
            _connection?.Send(payload);
        }
    }

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data) => _connection?.Send(data);
}
