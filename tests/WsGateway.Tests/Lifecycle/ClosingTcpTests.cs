using System.Diagnostics;
using WsGateway.Handlers;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 11, finding 9, over real loopback sockets: after failing a connection and receiving the client's
/// answering close, the server closes TCP at once (RFC 6455 §7.1.1); invalid UTF-8 fails before its frame ends.</summary>
public sealed class ClosingTcpTests
{
    public static TheoryData<string, byte[], ushort> Failures => new()
    {
        { "reserved bit", Frame(Binary, Trade(1), rsv: 4), 1002 },
        { "reserved opcode", Frame(3, [1, 2, 3]), 1002 },
        { "continuation without a message", Frame(0, [1, 2, 3]), 1002 },
        { "invalid UTF-8", Frame(Text, [0xCE, 0xBA, 0xFF]), 1007 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task After_a_failure_and_the_clients_close_the_server_closes_tcp_at_once(string what, byte[] frame, ushort expected)
    {
        _ = what;
        var options = new TradeGatewayOptions { CloseTimeout = TimeSpan.FromSeconds(5) };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), options).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);

        await client.SendAsync(frame);
        ServerFrame? close = await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(close);
        Assert.Equal(expected, close.CloseCode);

        var clock = Stopwatch.StartNew();
        await client.SendAsync(CloseFrame(expected));
        ServerFrame? after = await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(after); // TCP closed by the server
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the server closed TCP {clock.Elapsed} after the client's close");
    }

    [Fact]
    public async Task Invalid_utf8_fails_before_the_rest_of_its_frame_arrives()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);

        // A 100-byte text frame whose fourth byte can never be UTF-8; only its first 10 bytes are sent.
        byte[] payload = new byte[100];
        "abc"u8.CopyTo(payload);
        payload[3] = 0xFF;
        byte[] frame = Frame(Text, payload);
        await client.SendAsync(frame.AsMemory(0, frame.Length - 90));

        ServerFrame? close = await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(close);
        Assert.Equal((ushort)1007, close.CloseCode);
    }
}
