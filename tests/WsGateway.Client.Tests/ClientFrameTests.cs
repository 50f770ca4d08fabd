using System.Buffers;
using System.Buffers.Binary;
using WsGateway.Framing;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary>The bytes of client frames, written out by hand, and the masking keys.</summary>
public sealed class ClientFrameTests
{
    // Masking key as it appears on the wire: 37 FA 21 3D.
    private static readonly int s_key = BinaryPrimitives.ReadInt32LittleEndian([0x37, 0xFA, 0x21, 0x3D]);

    private static readonly Trade s_trade = new(0x0102030405060708, (byte)'B', 100.5, 1000);

    // The trade's 29-byte SBE message, unmasked: header (block length 21, template 1, schema 1, version 0),
    // tradeId LE, symbol 'B', price 100.5 as an LE double (0x4059200000000000), quantity 1000 LE.
    private static readonly byte[] s_tradePayload =
    [
        0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x42,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x59, 0x40,
        0xE8, 0x03, 0x00, 0x00,
    ];

    // FIN + binary, MASK + length 29, key, payload XOR 37 FA 21 3D repeated.
    private static readonly byte[] s_tradeFrame =
    [
        0x82, 0x9D, 0x37, 0xFA, 0x21, 0x3D,
        0x22, 0xFA, 0x20, 0x3D, 0x36, 0xFA, 0x21, 0x3D,
        0x3F, 0xFD, 0x27, 0x38, 0x33, 0xF9, 0x23, 0x3C,
        0x75,
        0xFA, 0x21, 0x3D, 0x37, 0xFA, 0x01, 0x64, 0x77,
        0x12, 0x22, 0x3D, 0x37,
    ];

    [Fact]
    public void A_trade_frame_has_the_hand_written_bytes()
    {
        byte[] frame = new byte[64];
        int length = ClientFrameWriter.WriteTrade(frame, s_trade, s_key);

        Assert.Equal(35, length);
        Assert.Equal(ClientFrameWriter.TradeFrameLength, length);
        Assert.Equal(s_tradeFrame, frame[..length]);
    }

    [Fact]
    public void The_hand_written_frame_unmasks_to_the_hand_written_payload()
    {
        // Guards the golden bytes themselves: XOR with the key by the RFC's formula, j = i MOD 4.
        byte[] key = s_tradeFrame[2..6];
        byte[] unmasked = s_tradeFrame[6..].Select((b, i) => (byte)(b ^ key[i % 4])).ToArray();
        Assert.Equal(s_tradePayload, unmasked);
        Assert.Equal(s_tradePayload, s_trade.Encode());
    }

    [Fact]
    public void The_gateway_frame_reader_accepts_a_client_trade_frame()
    {
        byte[] frame = new byte[64];
        int length = ClientFrameWriter.WriteTrade(frame, new Trade(7, (byte)'E', 3.25, 9), s_key);

        FrameParseStatus status = FrameReader.TryReadFrame(new ReadOnlySequence<byte>(frame, 0, length), FrameMasking.Required, 1024, out FrameHeader header, out ReadOnlySequence<byte> payload, out _);

        Assert.Equal(FrameParseStatus.Ok, status);
        Assert.True(header.Fin);
        Assert.Equal(WebSocketOpcode.Binary, header.Opcode);
        byte[] data = payload.ToArray();
        Masking.Apply(data, header.MaskKey, 0);
        Assert.Equal(new Trade(7, (byte)'E', 3.25, 9), Trade.Decode(data));
    }

    [Fact]
    public void A_batch_of_three_is_one_frame_with_a_7_bit_length()
    {
        Trade[] trades = [new(1, (byte)'A', 1, 1), new(2, (byte)'B', 2, 2), new(3, (byte)'C', 3, 3)];
        byte[] frame = new byte[256];
        int length = ClientFrameWriter.WriteTrades(frame, trades, s_key);

        Assert.Equal(6 + 87, length);
        Assert.Equal([0x82, 0x80 | 87, 0x37, 0xFA, 0x21, 0x3D], frame[..6]);
        Assert.Equal(Expected(trades), Unmask(frame.AsSpan(6, 87)));
    }

    [Fact]
    public void A_batch_of_five_uses_the_16_bit_extended_length()
    {
        Trade[] trades = Enumerable.Range(0, 5).Select(i => new Trade((ulong)i, (byte)'X', i, (uint)i)).ToArray();
        byte[] frame = new byte[256];
        int length = ClientFrameWriter.WriteTrades(frame, trades, s_key);

        // 5 * 29 = 145 = 0x0091 > 125: length byte 126 then 00 91, then the key.
        Assert.Equal(8 + 145, length);
        Assert.Equal([0x82, 0xFE, 0x00, 0x91, 0x37, 0xFA, 0x21, 0x3D], frame[..8]);
        Assert.Equal(Expected(trades), Unmask(frame.AsSpan(8, 145)));
    }

    [Fact]
    public void A_close_frame_carries_the_big_endian_code_and_the_reason()
    {
        byte[] frame = new byte[ClientFrameWriter.MaxControlFrameLength];
        int length = ClientFrameWriter.WriteClose(frame, 1000, "bye", s_key);

        // 03 E8 'b' 'y' 'e' masked with 37 FA 21 3D 37.
        Assert.Equal([0x88, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x34, 0x12, 0x43, 0x44, 0x52], frame[..length]);
    }

    [Fact]
    public void A_close_reason_is_cut_at_a_character_boundary_to_fit_125_bytes()
    {
        byte[] frame = new byte[ClientFrameWriter.MaxControlFrameLength];
        string reason = new('\u00e9', 100); // 200 UTF-8 bytes

        int length = ClientFrameWriter.WriteClose(frame, 1001, reason, 0);

        Assert.Equal(0x80 | 124, frame[1]); // 2-byte code + 61 two-byte characters
        Assert.Equal(6 + 124, length);
        Assert.Equal(new string('\u00e9', 61), System.Text.Encoding.UTF8.GetString(frame, 8, 122));
    }

    [Fact]
    public void Masking_keys_come_from_the_generator_in_bulk_and_differ()
    {
        var source = new MaskKeySource();
        int[] keys = Enumerable.Range(0, 3000).Select(_ => source.NextKey()).ToArray();

        // 3000 keys of 4 bytes from 4 KiB blocks: 3 refills, not one call per key.
        Assert.Equal(3, source.Refills);
        Assert.True(keys.Distinct().Count() >= 2990, "keys repeat far more than 32 random bits allow");

        // Every byte position varies: a generator stuck on a constant byte would show here.
        for (int shift = 0; shift < 32; shift += 8)
        {
            Assert.True(keys.Select(k => (k >> shift) & 0xFF).Distinct().Count() > 200, $"key byte at bit {shift} barely varies");
        }
    }

    [Fact]
    public void Two_sources_do_not_produce_the_same_keys()
    {
        int[] a = Enumerable.Range(0, 16).Select(_ => new MaskKeySource().NextKey()).ToArray();
        var one = new MaskKeySource();
        var two = new MaskKeySource();
        Assert.NotEqual(Enumerable.Range(0, 8).Select(_ => one.NextKey()), Enumerable.Range(0, 8).Select(_ => two.NextKey()));
        Assert.True(a.Distinct().Count() >= 15);
    }

    [Fact]
    public void The_accept_value_matches_the_RFC_6455_example()
    {
        // RFC 6455 §1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ClientHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Fact]
    public void A_handshake_key_is_16_random_bytes_in_base64()
    {
        string a = ClientHandshake.CreateKey();
        string b = ClientHandshake.CreateKey();
        Assert.Equal(16, Convert.FromBase64String(a).Length);
        Assert.NotEqual(a, b);
    }

    private static byte[] Expected(Trade[] trades)
    {
        byte[] expected = new byte[trades.Length * 29];
        Trade.EncodeToBuffer(trades, expected);
        return expected;
    }

    private static byte[] Unmask(ReadOnlySpan<byte> masked)
    {
        byte[] key = [0x37, 0xFA, 0x21, 0x3D];
        byte[] result = masked.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            result[i] ^= key[i % 4];
        }

        return result;
    }
}
