using System.Buffers.Binary;
using System.Text.Json;

using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// The FIX spec examples (tests/data/sbe/vectors/fix-spec) and real exchange captures, decoded at run time with the
/// exchanges' own schemas message by message to exactly their ends; values from tests/data/sbe/README.md. The Binance
/// and CME tests need schemas and captures the repository may not redistribute: they belong to the reference suite
/// (<see cref="ReferenceData"/>); <see cref="ShapeDecodeTests"/> covers the same shapes with the project's own schema.
/// </summary>
public sealed class ExchangeDecodeTests
{
    private static readonly Lazy<SbeJsonDecoder> s_fix = Decoder(() => SbeData.Path("fix-spec", "v1.0", "Examples.xml"));
    private static readonly Lazy<SbeJsonDecoder> s_binance2 = Decoder(() => ReferenceData.Path("exchanges", "binance", "spot_2_0.xml"));
    private static readonly Lazy<SbeJsonDecoder> s_binance32 = Decoder(() => ReferenceData.Path("exchanges", "binance", "spot_3_2.xml"));
    private static readonly Lazy<SbeJsonDecoder> s_cme = Decoder(() => SbeData.Path("reallogic", "test-resources", "FixBinary.xml"));

    [Theory]
    [InlineData("fixspec_NewOrderSingle_sofh_68.bin", "NewOrderSingle", 54, 99)]
    [InlineData("fixspec_ExecutionReport_sofh_84.bin", "ExecutionReport", 42, 98)]
    [InlineData("fixspec_BusinessMessageReject_sofh_64.bin", "BusinessMessageReject", 9, 97)]
    public void Fix_spec_examples_decode_after_their_framing_header(string file, string name, int blockLength, int templateId)
    {
        byte[] bytes = SbeData.Bytes("vectors", "fix-spec", file);
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32BigEndian(bytes)); // SOFH message length

        JsonElement message = CarDecodeTests.Decode(s_fix.Value, bytes[6..], bytes.Length - 6);

        Assert.Equal(name, message.GetProperty("$message").GetString());
        JsonElement header = message.GetProperty("$header");
        Assert.Equal(blockLength, header.GetProperty("blockLength").GetInt32());
        Assert.Equal(templateId, header.GetProperty("templateId").GetInt32());
        Assert.Equal(91, header.GetProperty("schemaId").GetInt32());
    }

    [Fact]
    public void Fix_spec_execution_report_has_two_fills_and_the_reject_its_text()
    {
        JsonElement report = CarDecodeTests.Decode(s_fix.Value, SbeData.Bytes("vectors", "fix-spec", "fixspec_ExecutionReport_sofh_84.bin")[6..], 78);
        Assert.Equal(2, report.GetProperty("FillsGrp").GetArrayLength());

        JsonElement reject = CarDecodeTests.Decode(s_fix.Value, SbeData.Bytes("vectors", "fix-spec", "fixspec_BusinessMessageReject_sofh_64.bin")[6..], 58);
        // Examples.xml's DATA has no characterEncoding: the bytes come out as base64.
        Assert.Equal("Not authorized to trade that instrument"u8.ToArray(), reject.GetProperty("Text").GetBytesFromBase64());
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_websocket_response_wrapping_a_book_ticker()
    {
        JsonElement response = CarDecodeTests.Decode(s_binance2.Value, ReferenceData.Bytes("vectors", "binance", "kyber_ws_bookticker_spot2v0_125.bin"), 125);

        Assert.Equal("WebSocketResponse", response.GetProperty("$message").GetString());
        Assert.Equal(200, response.GetProperty("status").GetInt32());
        JsonElement limit = Assert.Single(response.GetProperty("rateLimits").EnumerateArray().ToArray());
        Assert.Equal("RequestWeight", limit.GetProperty("rateLimitType").GetString());
        Assert.Equal("Minute", limit.GetProperty("interval").GetString());
        Assert.Equal(1, limit.GetProperty("intervalNum").GetInt32());
        Assert.Equal(6000, limit.GetProperty("rateLimit").GetInt64());
        Assert.Equal(4, limit.GetProperty("current").GetInt64());
        Assert.Equal("85930b72-4eef-489d-8352-0e739da3b17d", response.GetProperty("id").GetString());

        // The result var data is a complete message of the same schema: decode it too.
        byte[] result = response.GetProperty("result").GetBytesFromBase64();
        Assert.Equal(50, result.Length);
        JsonElement ticker = CarDecodeTests.Decode(s_binance2.Value, result, 50);
        Assert.Equal("BookTickerSymbolResponse", ticker.GetProperty("$message").GetString());
        Assert.Equal(-8, ticker.GetProperty("priceExponent").GetInt32());
        Assert.Equal(-8, ticker.GetProperty("qtyExponent").GetInt32());
        Assert.Equal(6889999000000, ticker.GetProperty("bidPrice").GetInt64());
        Assert.Equal(83374000, ticker.GetProperty("bidQty").GetInt64());
        Assert.Equal(6890000000000, ticker.GetProperty("askPrice").GetInt64());
        Assert.Equal(609203000, ticker.GetProperty("askQty").GetInt64());
        Assert.Equal("BTCUSDT", ticker.GetProperty("symbol").GetString());
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_account_position_with_a_null_optional_field()
    {
        JsonElement e = CarDecodeTests.Decode(
            s_binance32.Value, SbeData.Bytes("vectors", "binance", "nautilus-spot-3_2", "outbound_account_position_event_1.sbe"), 96);

        Assert.Equal(2, e.GetProperty("$header").GetProperty("version").GetInt32());
        Assert.Equal(1700000000000000, e.GetProperty("eventTime").GetInt64());
        Assert.Equal(1700000000000000, e.GetProperty("updateTime").GetInt64());
        Assert.Equal(JsonValueKind.Null, e.GetProperty("subscriptionId").ValueKind); // 65535 = uint16 null
        string[] balances = [.. e.GetProperty("balances").EnumerateArray().Select(b =>
            $"{b.GetProperty("asset").GetString()}:{b.GetProperty("free").GetInt64()}e{b.GetProperty("exponent").GetInt32()}:{b.GetProperty("locked").GetInt64()}")];
        Assert.Equal(["BTC:100000000e-8:0", "BNB:28e-8:0", "USDT:5000000000000e-8:0"], balances);
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("execution_report_event_1.sbe", 329, "New", true, "")]
    [InlineData("execution_report_event_2.sbe", 350, "Canceled", false, "O-20200101-000000-000")]
    public void Binance_execution_reports(string file, int length, string status, bool working, string origClientOrderId)
    {
        JsonElement e = CarDecodeTests.Decode(s_binance32.Value, SbeData.Bytes("vectors", "binance", "nautilus-spot-3_2", file), length);

        Assert.Equal("ExecutionReportEvent", e.GetProperty("$message").GetString());
        Assert.Equal("Buy", e.GetProperty("side").GetString());
        Assert.Equal("Limit", e.GetProperty("orderType").GetString());
        Assert.Equal("Gtc", e.GetProperty("timeInForce").GetString());
        Assert.Equal(12345678, e.GetProperty("orderId").GetInt64());
        Assert.Equal(status, e.GetProperty("executionType").GetString());
        Assert.Equal(status, e.GetProperty("orderStatus").GetString());
        Assert.Equal(working ? "True" : "False", e.GetProperty("isWorking").GetString());
        Assert.Equal("BTCUSDT", e.GetProperty("symbol").GetString());
        Assert.Equal("O-20200101-000000-000-000-0", e.GetProperty("clientOrderId").GetString());
        Assert.Equal(origClientOrderId, e.GetProperty("origClientOrderId").GetString());
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_websocket_response_wrapping_a_new_order()
    {
        JsonElement response = CarDecodeTests.Decode(s_binance32.Value, SbeData.Bytes("vectors", "binance", "nautilus-spot-3_2", "web_socket_response_1.sbe"), 288);

        Assert.Equal(3, response.GetProperty("rateLimits").GetArrayLength());
        Assert.Equal("ws-place", response.GetProperty("id").GetString());
        byte[] result = response.GetProperty("result").GetBytesFromBase64();
        Assert.Equal(203, result.Length);
        JsonElement order = CarDecodeTests.Decode(s_binance32.Value, result, 203);
        Assert.Equal("NewOrderFullResponse", order.GetProperty("$message").GetString());
        Assert.Equal(153, order.GetProperty("$header").GetProperty("blockLength").GetInt32());
        Assert.Equal(2, order.GetProperty("$header").GetProperty("version").GetInt32());
        Assert.Equal(JsonValueKind.Array, order.GetProperty("fills").ValueKind);
        Assert.Equal(JsonValueKind.Array, order.GetProperty("preventedMatches").ValueKind);
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("MdIncrementalRefreshBook.pcap", 46)]
    [InlineData("MdIncrementalRefreshOrderBook.pcap", 47)]
    [InlineData("MdIncrementalRefreshTradeSummary.pcap", 48)]
    [InlineData("MdIncrementalRefreshVolume.pcap", 37)]
    public void Cme_mdp3_packets_decode_message_by_message_to_each_MsgSize(string file, int templateId)
    {
        int messages = 0;
        var templates = new HashSet<int>();
        foreach (byte[] payload in UdpPayloads(ReferenceData.Bytes("vectors", "cme-mdp3", file)))
        {
            int position = 12; // MDP packet header: MsgSeqNum u32, SendingTime u64
            while (position < payload.Length)
            {
                int msgSize = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(position)); // includes its own 2 bytes
                JsonElement message = CarDecodeTests.Decode(s_cme.Value, payload[(position + 2)..(position + msgSize)], msgSize - 2);
                JsonElement header = message.GetProperty("$header");
                Assert.Equal(1, header.GetProperty("schemaId").GetInt32());
                Assert.Equal(9, header.GetProperty("version").GetInt32());
                Assert.StartsWith("MDIncrementalRefresh", message.GetProperty("$message").GetString(), StringComparison.Ordinal);
                Assert.Equal(JsonValueKind.Array, message.GetProperty("NoMDEntries").ValueKind);
                templates.Add(header.GetProperty("templateId").GetInt32());
                position += msgSize;
                messages++;
            }

            Assert.Equal(payload.Length, position);
        }

        Assert.True(messages > 0);
        Assert.Contains(templateId, templates);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Cme_book_first_message_has_23_entries_and_16_order_ids()
    {
        byte[] payload = UdpPayloads(ReferenceData.Bytes("vectors", "cme-mdp3", "MdIncrementalRefreshBook.pcap")).First();
        int msgSize = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(12));
        Assert.Equal(1152, msgSize); // README: 2 + 8 + 11 + 3 + 23x32 + 8 + 16x24

        JsonElement message = CarDecodeTests.Decode(s_cme.Value, payload[14..(12 + msgSize)], msgSize - 2);

        Assert.Equal(46, message.GetProperty("$header").GetProperty("templateId").GetInt32());
        Assert.Equal(11, message.GetProperty("$header").GetProperty("blockLength").GetInt32());
        Assert.Equal(23, message.GetProperty("NoMDEntries").GetArrayLength());
        Assert.Equal(16, message.GetProperty("NoOrderIDEntries").GetArrayLength());
    }

    private static Lazy<SbeJsonDecoder> Decoder(Func<string> schemaPath) => new(() => new SbeJsonDecoder(SbeSchema.Load(schemaPath())));

    /// <summary>UDP payloads of a classic little-endian pcap of Ethernet/IPv4/UDP frames.</summary>
    internal static IEnumerable<byte[]> UdpPayloads(byte[] pcap)
    {
        Assert.Equal(0xa1b2c3d4u, BinaryPrimitives.ReadUInt32LittleEndian(pcap));
        int position = 24;
        var payloads = new List<byte[]>();
        while (position + 16 <= pcap.Length)
        {
            int captured = BinaryPrimitives.ReadInt32LittleEndian(pcap.AsSpan(position + 8));
            byte[] frame = pcap[(position + 16)..(position + 16 + captured)];
            position += 16 + captured;
            int ip = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x8100 ? 18 : 14; // VLAN tag
            int udp = ip + ((frame[ip] & 0x0f) * 4);
            int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(udp + 4));
            payloads.Add(frame[(udp + 8)..(udp + udpLength)]);
        }

        return payloads;
    }
}
