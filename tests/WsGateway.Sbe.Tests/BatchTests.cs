
namespace WsGateway.Sbe.Tests;

public class BatchTests
{
    private static Trade[] MakeTrades(int count)
    {
        var trades = new Trade[count];
        for (int i = 0; i < count; i++)
        {
            trades[i] = new Trade((ulong)i * 1_000_003, (byte)('A' + (i % 26)), (i * 0.25) - 100, (uint)(i * 7));
        }

        return trades;
    }

    [Fact]
    public void Thousand_trades_encode_back_to_back_and_decode_by_offset_and_by_reader()
    {
        Trade[] trades = MakeTrades(1000);
        var buffer = new byte[1000 * 29];

        Assert.Equal(29_000, Trade.EncodeToBuffer(trades, buffer));

        for (int i = 0; i < trades.Length; i++)
        {
            Assert.Equal(trades[i], Trade.DecodeFromBuffer(buffer, i * 29));
            Assert.Equal(trades[i].Encode(), buffer.AsSpan(i * 29, 29).ToArray());
        }

        int n = 0;
        foreach (Trade trade in new TradeBatchReader(buffer))
        {
            Assert.Equal(trades[n], trade);
            n++;
        }

        Assert.Equal(1000, n);
    }

    [Fact]
    public void EncodeToBuffer_returns_bytes_written_and_leaves_the_rest_alone()
    {
        Trade[] trades = MakeTrades(3);
        var buffer = new byte[100];
        buffer.AsSpan().Fill(0xCC);

        Assert.Equal(87, Trade.EncodeToBuffer(trades, buffer));
        Assert.All(buffer[87..], b => Assert.Equal(0xCC, b));
        Assert.Equal(0, Trade.EncodeToBuffer([], buffer));
    }

    [Fact]
    public void Second_message_of_a_hand_written_batch_starts_at_byte_29()
    {
        byte[] batch =
        [
            0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, 0x02, 0x00, 0x00, 0x00,
            0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x03, 0x00, 0x00, 0x00,
        ];

        Assert.Equal(new Trade(1, (byte)'A', 1.0, 2), Trade.DecodeFromBuffer(batch, 0));
        Assert.Equal(new Trade(2, (byte)'B', 2.0, 3), Trade.DecodeFromBuffer(batch, 29));
        Assert.Equal(batch, EncodeAll([new Trade(1, (byte)'A', 1.0, 2), new Trade(2, (byte)'B', 2.0, 3)]));
    }

    private static byte[] EncodeAll(Trade[] trades)
    {
        var buffer = new byte[trades.Length * Trade.EncodedSize];
        Trade.EncodeToBuffer(trades, buffer);
        return buffer;
    }

    [Fact]
    public void Reader_steps_over_an_extended_message_using_its_block_length()
    {
        byte[] batch =
        [
            // version 1 message, blockLength 25 (4 unknown bytes at the end)
            0x19, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, 0x02, 0x00, 0x00, 0x00, 0xAA, 0xBB, 0xCC, 0xDD,
            // version 0 message
            0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x03, 0x00, 0x00, 0x00,
        ];

        var reader = new TradeBatchReader(batch);
        Assert.True(reader.TryRead(out Trade first, out _));
        Assert.Equal(new Trade(1, (byte)'A', 1.0, 2), first);
        Assert.Equal(33, reader.BytesConsumed);
        Assert.True(reader.TryRead(out Trade second, out _));
        Assert.Equal(new Trade(2, (byte)'B', 2.0, 3), second);
        Assert.Equal(62, reader.BytesConsumed);
        Assert.True(reader.End);
        Assert.False(reader.TryRead(out _, out SbeDecodeError error));
        Assert.False(error.IsError);
    }

    [Fact]
    public void Reader_stops_at_a_cut_message_with_the_reason_and_its_offset()
    {
        Trade[] trades = MakeTrades(3);
        var buffer = new byte[(3 * 29) - 9];
        Trade.EncodeToBuffer(trades.AsSpan(0, 2), buffer);
        trades[2].Encode().AsSpan(0, 20).CopyTo(buffer.AsSpan(58));

        var reader = new TradeBatchReader(buffer);
        int read = 0;
        SbeDecodeError error;
        while (reader.TryRead(out Trade trade, out error))
        {
            Assert.Equal(trades[read++], trade);
        }

        Assert.Equal(2, read);
        Assert.Equal(58, reader.BytesConsumed);
        Assert.False(reader.End);
        Assert.Equal("Insufficient data: expected 29 bytes, got 20", error.ToString());

        // Does not move past the bad message.
        Assert.False(reader.TryRead(out _, out SbeDecodeError again));
        Assert.Equal(error, again);
    }

    [Fact]
    public void Foreach_throws_at_a_malformed_message()
    {
        Trade[] trades = MakeTrades(2);
        var buffer = new byte[58];
        Trade.EncodeToBuffer(trades, buffer);
        buffer[29 + 2] = 7; // second message's template id

        int read = 0;
        SbeDecodeException ex = Assert.Throws<SbeDecodeException>(() =>
        {
            foreach (Trade trade in new TradeBatchReader(buffer))
            {
                read++;
            }
        });
        Assert.Equal(1, read);
        Assert.Equal("Unknown template id: expected 1, got 7", ex.Message);
    }

    [Fact]
    public void Empty_buffer_has_no_trades()
    {
        int n = 0;
        foreach (Trade trade in new TradeBatchReader([]))
        {
            n++;
        }

        Assert.Equal(0, n);
        Assert.True(new TradeBatchReader([]).End);
    }
}
