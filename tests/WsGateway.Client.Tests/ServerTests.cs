using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using WsGateway.Handlers;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary>The client against the real standalone gateway over loopback sockets.</summary>
public sealed class ServerTests
{
    private static Trade TradeNumber(int i) => new((ulong)i * 1_000_003, (byte)('A' + (i % 26)), 100 + (i * 0.25), (uint)(i + 1));

    [Fact]
    public async Task Single_trades_arrive_in_order_with_every_field()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        for (int i = 0; i < 500; i++)
        {
            await client.SendTradeAsync(TradeNumber(i));
        }

        await client.CloseAsync(1000, "done");

        WebSocketCloseInfo close = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new WebSocketCloseInfo(1000, "done", InitiatedByClient: true, Clean: true), close);
        Assert.Equal(Enumerable.Range(0, 500).Select(TradeNumber), handler.DecodedTrades);
        Assert.All(handler.MessageSizes, n => Assert.Equal(1, n));
        Assert.Empty(handler.Errors);
        Assert.Equal(500, client.MessagesSent);
        Assert.Equal((ushort)1000, client.CloseStatus);
    }

    [Fact]
    public async Task A_batch_is_one_message_and_a_large_batch_grows_the_buffer()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url, new TradeClientOptions { SendBufferSize = 1024 });

        Trade[] small = Enumerable.Range(0, 10).Select(TradeNumber).ToArray();
        Trade[] large = Enumerable.Range(10, 1000).Select(TradeNumber).ToArray(); // 29 KB, far over 1 KiB
        await client.SendTradesAsync(small);
        await client.SendTradesAsync(large);
        await client.CloseAsync();

        await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([10, 1000], handler.MessageSizes);
        Assert.Equal(small.Concat(large), handler.DecodedTrades);
        Assert.Equal(2, client.MessagesSent);
    }

    [Fact]
    public async Task Raw_SBE_bytes_are_sent_as_they_are()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        byte[] one = TradeNumber(1).Encode();
        byte[] three = new byte[3 * Trade.EncodedSize];
        Trade.EncodeToBuffer([TradeNumber(2), TradeNumber(3), TradeNumber(4)], three);
        await client.SendRawAsync(one);
        await client.SendRawAsync(three);
        await client.CloseAsync();

        await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1, 3], handler.MessageSizes);
        Assert.Equal(Enumerable.Range(1, 4).Select(TradeNumber), handler.DecodedTrades);
        Assert.Equal(one, TradeNumber(1).Encode()); // the caller's bytes are not masked in place
    }

    [Fact]
    public async Task Buffered_writes_and_flushes_deliver_everything_in_order()
    {
        const int Count = 20_000;
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url, new TradeClientOptions { SendBufferSize = 4096 });

        Trade[] pair = new Trade[2];
        int flushes = 0;
        for (int i = 0; i < Count; i++)
        {
            bool written;
            if (i % 10 == 9 && i + 1 < Count)
            {
                // Now and then a batch of two, and a raw message, in the same stream.
                pair[0] = TradeNumber(i);
                pair[1] = TradeNumber(i + 1);
                written = client.TryWriteTrades(pair);
                if (!written)
                {
                    await client.FlushAsync();
                    flushes++;
                    written = client.TryWriteTrades(pair);
                }

                i++;
            }
            else
            {
                written = client.TryWriteTrade(TradeNumber(i));
                if (!written)
                {
                    Assert.True(client.BufferedBytes > 4096 - 35);
                    await client.FlushAsync();
                    flushes++;
                    written = client.TryWriteTrade(TradeNumber(i));
                }
            }

            Assert.True(written);
        }

        await client.FlushAsync();
        await handler.WaitForTradesAsync(Count);
        await client.CloseAsync();

        Assert.Equal(Enumerable.Range(0, Count).Select(TradeNumber), handler.DecodedTrades);
        // 16,000 single frames of 35 bytes and 2,000 batch frames of 64 bytes, in 4 KiB flushes.
        Assert.InRange(flushes, ((16_000 * 35) + (2_000 * 64)) / 4096, ((16_000 * 35) + (2_000 * 64)) / (4096 - 64));
        Assert.Equal(handler.MessageSizes.Count, client.MessagesSent);
    }

    [Fact]
    public async Task A_write_during_a_flush_is_refused()
    {
        var handler = new RecordingHandler { CountOnly = true };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url, new TradeClientOptions { SendBufferSize = 8 * 1024 * 1024 });

        // 8 MB in one write cannot complete synchronously on loopback, so the flush is still in flight.
        while (client.TryWriteTrade(TradeNumber(1)))
        {
        }

        ValueTask flush = client.FlushAsync();
        if (!flush.IsCompleted)
        {
            Assert.Throws<InvalidOperationException>(() => client.TryWriteTrade(TradeNumber(2)));
        }

        await flush;
        Assert.True(client.TryWriteTrade(TradeNumber(2)));
    }

    [Fact]
    public async Task The_echo_handler_returns_binary_and_text()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url, new TradeClientOptions { SendBufferSize = 4096 });

        await client.SendTextAsync("h\u00e9llo");
        ClientMessage text = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Text, text.MessageType);
        Assert.Equal("h\u00e9llo", Encoding.UTF8.GetString(text.Payload.Span));

        await client.SendTradeAsync(TradeNumber(5));
        ClientMessage ack = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Binary, ack.MessageType);
        Assert.Equal(TradeNumber(5), Trade.Decode(ack.Payload.Span));

        // Larger than the send buffer (written in pieces) and than a receive segment (reassembled).
        byte[] big = new byte[300_000];
        Random.Shared.NextBytes(big);
        await client.SendRawAsync(big);
        ClientMessage echoed = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Binary, echoed.MessageType);
        Assert.Equal(big, echoed.Payload.ToArray());

        await client.CloseAsync();
        Assert.Equal((ushort)1000, client.CloseStatus);
    }

    [Fact]
    public async Task A_receive_loop_on_another_task_gets_every_ack_while_sending()
    {
        const int Count = 2_000;
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        var acks = new ConcurrentQueue<Trade>();
        Task<ClientMessage> receiving = Task.Run(async () =>
        {
            while (true)
            {
                ClientMessage message = await client.ReceiveAsync();
                if (message.IsClose)
                {
                    return message;
                }

                acks.Enqueue(Trade.Decode(message.Payload.Span));
            }
        });

        for (int i = 0; i < Count; i++)
        {
            if (!client.TryWriteTrade(TradeNumber(i)))
            {
                await client.FlushAsync();
                client.TryWriteTrade(TradeNumber(i));
            }
        }

        await client.FlushAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (acks.Count < Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await client.CloseAsync(4000, "bye");
        ClientMessage close = await receiving.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, Count).Select(TradeNumber), acks);
        Assert.Equal(4000, close.CloseStatus);
        Assert.Equal((ushort)4000, client.CloseStatus);
    }

    [Fact]
    public async Task CloseOutputAsync_lets_the_receive_loop_take_every_echo_still_in_flight_then_the_close()
    {
        const int Count = 20_000;
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        long echoed = 0;
        long outOfOrder = 0;
        Task<ClientMessage> receiving = Task.Run(async () =>
        {
            while (true)
            {
                ClientMessage message = await client.ReceiveAsync();
                if (message.IsClose)
                {
                    return message;
                }

                if (Trade.Decode(message.Payload.Span) != TradeNumber((int)echoed))
                {
                    outOfOrder++;
                }

                echoed++;
            }
        });

        for (int i = 0; i < Count; i++)
        {
            if (!client.TryWriteTrade(TradeNumber(i)))
            {
                await client.FlushAsync();
                client.TryWriteTrade(TradeNumber(i));
            }
        }

        // Buffered trades go out first, then the close frame; most echoes are still on their way back.
        await client.CloseOutputAsync(1000, "done");
        ClientMessage close = await receiving.WaitAsync(TimeSpan.FromSeconds(20));
        await client.CloseAsync();

        Assert.Equal(Count, echoed);
        Assert.Equal(0, outOfOrder);
        Assert.Equal(Count, client.MessagesSent);
        Assert.Equal(1000, close.CloseStatus);
        Assert.Equal((ushort)1000, client.CloseStatus);
    }

    [Fact]
    public async Task Text_to_the_trade_endpoint_is_answered_with_close_1003()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await client.SendTextAsync("{}");
        ClientMessage message = await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(WebSocketMessageType.Close, message.MessageType);
        Assert.Equal(1003, message.CloseStatus);
        Assert.Equal((ushort)1003, client.CloseStatus);

        // The client answered the close: the gateway records a clean close it initiated, and sending is over.
        WebSocketCloseInfo info = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1003, info.Code);
        Assert.True(info.Clean);
        Assert.False(info.InitiatedByClient);
        var ex = Assert.Throws<WebSocketException>(() => client.TryWriteTrade(TradeNumber(1)));
        Assert.Equal(WebSocketError.InvalidState, ex.WebSocketErrorCode);

        // Receiving again returns the same close; CloseAsync only finishes the TCP close.
        Assert.Equal(1003, (await client.ReceiveAsync()).CloseStatus);
        await client.CloseAsync();
        Assert.Equal((ushort)1003, client.CloseStatus);
    }

    [Fact]
    public async Task Server_shutdown_reaches_the_client_as_close_1001()
    {
        var handler = new RecordingHandler();
        var server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
        await client.SendTradeAsync(TradeNumber(1));
        await handler.WaitForTradesAsync(1);

        Task stopping = server.StopAsync();
        ClientMessage message = await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1001, message.CloseStatus);
        Assert.Equal("Server shutting down", message.CloseReason);
        Assert.Equal(1001, (await handler.Disconnected).Code);
        Assert.True((await handler.Disconnected).Clean);
    }

    [Fact]
    public async Task A_close_code_that_may_not_be_sent_is_refused()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler()).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CloseAsync(1005));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CloseAsync(999));
        Assert.Null(client.CloseStatus);
    }

    [Fact]
    public async Task The_gateway_connection_limit_is_a_503_with_its_reason()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler(), new TradeGatewayOptions { MaxConnections = 1 }).Start();
        await using TradeClient first = await TradeClient.ConnectAsync(server.Url);

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => TradeClient.ConnectAsync(server.Url));

        Assert.Equal(503, ex.StatusCode);
        Assert.Contains("Connection limit reached: 1 connections are open", ex.ResponseBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_without_closing_is_an_abnormal_close_for_the_server()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        TradeClient client = await TradeClient.ConnectAsync(server.Url);
        ValueTask<ClientMessage> pending = client.ReceiveAsync();

        await client.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(async () => await pending);
        Assert.Equal(1006, (await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10))).Code);
        Assert.Equal((ushort)1006, client.CloseStatus);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ReceiveAsync());
        Assert.Throws<ObjectDisposedException>(() => client.TryWriteTrade(TradeNumber(1)));
    }
}
