using System.Collections.Concurrent;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Processing;

/// <summary><see cref="IReadCompletionHandler"/>: one call after the messages of one read, over a real socket.</summary>
public sealed class ReadCompletionTests
{
    [Fact]
    public async Task Three_frames_written_at_once_are_delivered_then_completed_once()
    {
        var handler = new CompletionRecorder();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);

        // One send() of 111 bytes: loopback queues it whole, so the server reads it in one read.
        await client.SendAsync(Concat(BinaryFrame(Trade(1)), BinaryFrame(Trade(2)), BinaryFrame(Trade(3))));
        await handler.WaitForTradesAsync(3);
        await SecurityTestKit.WaitUntil(() => handler.Events.Contains("read"));
        Assert.Equal(["trade", "trade", "trade", "read"], handler.Events.ToArray());

        // The next read gets its own completion; a ping alone (nothing delivered) gets none.
        await client.SendAsync(Frame(Ping, []));
        Assert.NotNull(await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(5))); // the pong
        await client.SendAsync(BinaryFrame(Trade(4)));
        await handler.WaitForTradesAsync(4);
        await SecurityTestKit.WaitUntil(() => handler.Events.Count == 6);
        Assert.Equal(["trade", "trade", "trade", "read", "trade", "read"], handler.Events.ToArray());
    }


    private sealed class CompletionRecorder : RecordingHandler, IReadCompletionHandler
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public override void OnTrade(ReadOnlySpan<byte> data)
        {
            base.OnTrade(data);
            Events.Enqueue("trade");
        }

        public void OnReadComplete() => Events.Enqueue("read");
    }
}
