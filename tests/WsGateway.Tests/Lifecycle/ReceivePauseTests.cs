using Microsoft.Extensions.Time.Testing;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Backpressure from behind the handler (a sink with too much unacknowledged): a paused connection is not
/// read, what its client sends waits, and nothing is lost when it resumes.</summary>
public sealed class ReceivePauseTests
{
    private const int Frames = 3000;

    [Fact]
    public async Task A_paused_connection_delivers_nothing_more_until_resumed_then_every_trade_arrives_once_in_order()
    {
        var handler = new PausingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);

        var frames = new List<byte[]>(Frames);
        for (int i = 0; i < Frames; i++)
        {
            frames.Add(BinaryFrame(Trade((ulong)i + 1)));
        }

        // Sent in one go: the first read delivers some, pauses, and the rest must wait in the kernel.
        Task send = client.SendAsync(Concat([.. frames]));
        await handler.Paused.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(handler.Connection!.IsReceivingPaused);
        await Task.Delay(300);
        int whilePaused = handler.TradeCount;
        await Task.Delay(700);
        Assert.Equal(whilePaused, handler.TradeCount);
        Assert.InRange(whilePaused, 1, Frames - 1);

        handler.Connection!.ResumeReceiving();
        Assert.False(handler.Connection.IsReceivingPaused);
        await send.WaitAsync(TimeSpan.FromSeconds(10));
        await handler.WaitForTradesAsync(Frames);
        Assert.Equal(Frames, handler.TradeCount);
        ulong expected = 1;
        foreach (WsGateway.Sbe.Trade trade in handler.DecodedTrades)
        {
            Assert.Equal(expected++, trade.TradeId);
        }
    }

    [Fact]
    public async Task A_paused_connection_is_not_closed_by_the_keep_alive_while_its_client_waits()
    {
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(200), KeepAliveTimeout = TimeSpan.FromMilliseconds(300) };
        var handler = new PausingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, options).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        await client.SendAsync(BinaryFrame(Trade(1)));
        await handler.Paused.WaitAsync(TimeSpan.FromSeconds(10));

        // Three keep-alive timeouts pass; the client answers no ping (its pongs could not be read anyway).
        await Task.Delay(2500);
        Assert.Equal(0, handler.Disconnects);

        handler.Connection!.ResumeReceiving();
        await client.SendAsync(BinaryFrame(Trade(2)));
        await handler.WaitForTradesAsync(2);
        Assert.Equal(0, handler.Disconnects);
    }

    [Fact]
    public async Task Time_paused_does_not_count_against_the_minimum_receive_rate_of_a_frame_begun_before_the_pause()
    {
        // The default MinReceiveRate on the server's fake clock: ten minutes pass while paused, mid-frame.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new PausingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, options, timeProvider: time).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        byte[] second = BinaryFrame(Trade(2));
        await client.SendAsync(Concat(BinaryFrame(Trade(1)), second[..10]));
        await handler.Paused.WaitAsync(TimeSpan.FromSeconds(10));
        Task<ServerFrame?> closed = client.ReadFrameAsync();

        time.Advance(TimeSpan.FromMinutes(10));
        await Task.WhenAny(closed, Task.Delay(1500)); // the event loops check once a second of real time
        Assert.False(closed.IsCompleted, "closed while paused");

        // Resumed: the deadline counts from here, and a heartbeat passes before the rest of the frame comes.
        handler.Connection!.ResumeReceiving();
        await Task.Delay(200);
        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAny(closed, Task.Delay(1500));
        Assert.False(closed.IsCompleted, "closed after the resume: the pause was counted");

        await client.SendAsync(second[10..]);
        await handler.WaitForTradesAsync(2);
        Assert.Equal(0, handler.Disconnects);
        Assert.Empty(handler.Errors);
    }

    /// <summary>Pauses its connection at the first trade.</summary>
    private sealed class PausingHandler : RecordingHandler
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Paused => _paused.Task;

        public override void OnTrade(ReadOnlySpan<byte> data)
        {
            base.OnTrade(data);
            if (!_paused.Task.IsCompleted)
            {
                Connection!.PauseReceiving();
                _paused.TrySetResult();
            }
        }
    }
}
