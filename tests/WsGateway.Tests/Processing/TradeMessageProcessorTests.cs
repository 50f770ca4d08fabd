using WsGateway.Sbe;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Processing;

public sealed class TradeMessageProcessorTests
{
    [Fact]
    public void A_single_trade_goes_to_OnTrade_as_the_same_bytes()
    {
        var handler = new RecordingHandler();
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler);
        byte[] trade = ClientFrames.Trade(12345);

        Assert.Equal(ProcessResult.Delivered, processor.Process(trade));

        Assert.Equal(trade, Assert.Single(handler.Trades));
        Assert.Empty(handler.Batches);
        Assert.Equal(1, processor.TradesDelivered);
    }

    [Fact]
    public void Trades_back_to_back_go_to_OnTrades_with_the_message_size()
    {
        var handler = new RecordingHandler();
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler);
        byte[] batch = ClientFrames.Trades(1, 10);

        Assert.Equal(ProcessResult.Delivered, processor.Process(batch));

        (byte[] data, int size) = Assert.Single(handler.Batches);
        Assert.Equal(29, size);
        Assert.Equal(batch, data);
        Assert.Equal(10, handler.Trades.Count);
        Assert.Equal(10, processor.TradesDelivered);
    }

    [Fact]
    public void The_default_OnTrades_calls_OnTrade_for_each_message()
    {
        var handler = new CountingHandler();
        var processor = TradeMessageProcessor.Create(handler);

        processor.Process(ClientFrames.Trades(100, 7));

        Assert.Equal([100UL, 101, 102, 103, 104, 105, 106], handler.Ids);
    }

    [Fact]
    public void A_newer_schema_version_with_a_longer_block_is_delivered_whole()
    {
        var handler = new RecordingHandler();
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler);
        byte[] trade = [.. ClientFrames.Trade(1), 0xAA, 0xBB, 0xCC, 0xDD];
        trade[0] = 25; // blockLength 25: four bytes appended by version 1
        trade[6] = 1;

        Assert.Equal(ProcessResult.Delivered, processor.Process(trade));
        Assert.Equal(33, Assert.Single(handler.Trades).Length);
    }

    public static TheoryData<byte[], string> BadMessages() => new()
    {
        { ClientFrames.Trade(1)[..20], "Insufficient data: expected 29 bytes, got 20" },
        { ClientFrames.Trade(1)[..5], "Insufficient data: expected 29 bytes, got 5" },
        { [.. ClientFrames.Trade(1), 1, 2, 3], "Trailing data: 32 bytes is not a whole number of 29-byte Trade messages (1 whole, 3 bytes left over)" },
        { With(ClientFrames.Trade(1), 2, 7), "Unknown template id: expected 1, got 7" },
        { With(ClientFrames.Trade(1), 4, 9), "Unknown schema id: expected 1, got 9" },
        { With(ClientFrames.Trade(1), 0, 13), "Block length too small: expected at least 21, got 13" },
        {
            [.. ClientFrames.Trade(1), .. With(ClientFrames.Trade(2), 2, 3)],
            "Batch message 1 at offset 29: expected the header of the first message (block length 21, template id 1, schema id 1, version 0), got block length 21, template id 3, schema id 1, version 0"
        },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void A_message_that_is_not_a_trade_is_an_OnError_with_the_reason(byte[] message, string reason)
    {
        var handler = new RecordingHandler();
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler, connectionId: 42);

        Assert.Equal(ProcessResult.Rejected, processor.Process(message));

        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.Decode, error.Kind);
        Assert.Equal(reason, error.Message);
        Assert.Equal(42, error.ConnectionId);
        Assert.Equal(1, error.MessageNumber);
        Assert.Null(error.CloseCode);
        Assert.Empty(handler.Trades);
        Assert.Equal(1, processor.DecodeErrors);
    }

    [Theory]
    [InlineData(7, 9, 13, "Unknown schema id: expected 1, got 9")]
    [InlineData(7, 1, 13, "Unknown template id: expected 1, got 7")]
    [InlineData(1, 9, 21, "Unknown schema id: expected 1, got 9")]
    public void A_bad_header_is_refused_in_the_same_words_by_the_gateway_and_by_the_codec(
        byte templateId, byte schemaId, byte blockLength, string reason)
    {
        // Several fields wrong at once: the first one checked decides the words, so both must check in one order
        // (schema id, template id, block length: the order of the SBE header's meaning, not of its bytes).
        byte[] message = With(With(With(ClientFrames.Trade(1), 2, templateId), 4, schemaId), 0, blockLength);
        var handler = new RecordingHandler();
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler);

        Assert.Equal(ProcessResult.Rejected, processor.Process(message));
        Assert.False(Trade.TryDecode(message, out _, out _, out SbeDecodeError codecError));
        SbeDecodeException flyweightError = Assert.Throws<SbeDecodeException>(() => new TradeDecoder().WrapAndApplyHeader(message, 0));

        Assert.Equal(reason, Assert.Single(handler.Errors).Message);
        Assert.Equal(reason, codecError.ToString());
        Assert.Equal(reason, flyweightError.Message);
    }

    [Fact]
    public void A_handler_exception_is_reported_and_the_next_message_is_processed()
    {
        var handler = new RecordingHandler { ThrowOnTrade = t => t[8] == 2 ? new InvalidOperationException("boom") : null };
        var processor = TradeMessageProcessor.Create<ITradeMessageHandler>(handler);

        Assert.Equal(ProcessResult.Delivered, processor.Process(ClientFrames.Trade(1)));
        Assert.Equal(ProcessResult.HandlerFailed, processor.Process(ClientFrames.Trade(2)));
        Assert.Equal(ProcessResult.Delivered, processor.Process(ClientFrames.Trade(3)));

        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.Handler, error.Kind);
        Assert.Equal(2, error.MessageNumber);
        Assert.IsType<InvalidOperationException>(error.Exception);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, handler.Trades.Count);
    }

    [Fact]
    public void Processing_100000_messages_allocates_nothing_per_message()
    {
        var handler = new CountingHandler();
        var processor = TradeMessageProcessor.Create(handler);
        byte[] single = ClientFrames.Trade(1);
        byte[] batch = ClientFrames.Trades(1, 16);
        for (int i = 0; i < 1000; i++)
        {
            processor.Process(single); // JIT and tiering before measuring
            processor.Process(batch);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            processor.Process(single);
        }

        for (int i = 0; i < 10_000; i++)
        {
            processor.Process(batch);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 1024, $"Expected no per-message allocation, measured {allocated} bytes over 260,000 messages");
        Assert.Equal(1000 + 16_000 + 100_000 + 160_000, handler.Count);
    }

    private static byte[] With(byte[] message, int offset, byte value)
    {
        message[offset] = value;
        return message;
    }

    /// <summary>A class handler that only counts and keeps trade ids (no allocation per message once warmed).</summary>
    private sealed class CountingHandler : ITradeMessageHandler
    {
        public List<ulong> Ids { get; } = new(capacity: 1024);

        public long Count { get; private set; }

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            Count++;
            if (Ids.Count < 1000)
            {
                Ids.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8)));
            }
        }
    }
}
