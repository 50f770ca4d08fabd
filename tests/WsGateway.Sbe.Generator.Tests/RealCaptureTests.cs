using System.Buffers.Binary;
using System.Reflection;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// Real exchange messages decoded with code generated from the exchanges' own schemas, message by message, to exactly
/// the end of each message; the code is generated and compiled at test time (with a small C# walker). The FIX
/// specification's examples are in tests/data/sbe; the Binance and CME tests need schemas and captures the repository
/// may not redistribute, so they belong to the reference suite (<see cref="ReferenceData"/>), and
/// <see cref="ShapeCaptureTests"/> covers the same shapes with the project's own schema.
/// </summary>
public sealed class RealCaptureTests
{
    private const string BinanceWalker = """
        public static class Walker
        {
            public static string BookTicker(byte[] buffer)
            {
                var response = new Spot.WebSocketResponseDecoder().WrapAndApplyHeader(buffer, 0);
                var rateLimits = response.RateLimits;
                string limits = "";
                while (rateLimits.HasNext)
                {
                    rateLimits.Next();
                    limits += $"{rateLimits.RateLimitType}/{rateLimits.Interval}/{rateLimits.IntervalNum}/{rateLimits.RateLimit}/{rateLimits.Current};";
                }

                string id = response.GetId();
                System.ReadOnlySpan<byte> result = response.GetResultBytes();
                var inner = new Spot.BookTickerSymbolResponseDecoder().WrapAndApplyHeader(result, 0);
                string symbol = inner.GetSymbol();
                return $"{response.Status}|{limits}|{id}|{inner.PriceExponent}|{inner.BidPrice}|{inner.BidQty}|{inner.AskPrice}|{inner.AskQty}|{symbol}|{inner.Limit}=={result.Length}|{response.Limit}";
            }
        }
        """;

    private const string Binance32Walker = """
        public static class Walker
        {
            public static string AccountPosition(byte[] buffer)
            {
                var e = new Spot.OutboundAccountPositionEventDecoder().WrapAndApplyHeader(buffer, 0);
                string text = $"{e.ActingVersion}|{e.EventTime}|{e.UpdateTime}|{e.SubscriptionId}|";
                var balances = e.Balances;
                while (balances.HasNext)
                {
                    balances.Next();
                    long free = balances.Free;
                    long locked = balances.Locked;
                    text += $"{balances.GetAsset()}:{free}e{balances.Exponent}:{locked};";
                }

                return text + "|" + e.Limit;
            }

            public static string ExecutionReport(byte[] buffer)
            {
                var e = new Spot.ExecutionReportEventDecoder().WrapAndApplyHeader(buffer, 0);
                string text = $"{e.Side}|{e.OrderType}|{e.TimeInForce}|{e.OrderId}|{e.ExecutionType}|{e.OrderStatus}|{e.IsWorking}|";
                text += $"{e.GetSymbol()}|{e.GetClientOrderId()}|{e.GetOrigClientOrderId()}|{e.GetCommissionAsset()}|{e.GetRejectReason()}|{e.GetCounterSymbol()}";
                return text + "|" + e.Limit;
            }

            public static string WebSocketResponse(byte[] buffer)
            {
                var response = new Spot.WebSocketResponseDecoder().WrapAndApplyHeader(buffer, 0);
                var rateLimits = response.RateLimits;
                int count = rateLimits.Count;
                while (rateLimits.HasNext)
                {
                    rateLimits.Next();
                }

                string id = response.GetId();
                System.ReadOnlySpan<byte> result = response.GetResultBytes();
                var order = new Spot.NewOrderFullResponseDecoder().WrapAndApplyHeader(result, 0);
                var fills = order.Fills;
                int fillCount = fills.Count;
                while (fills.HasNext)
                {
                    fills.Next();
                    fills.SkipCommissionAsset();
                }

                var prevented = order.PreventedMatches;
                while (prevented.HasNext)
                {
                    prevented.Next();
                    prevented.SkipMakerSymbol();
                }

                string symbol = order.GetSymbol();
                string clientOrderId = order.GetClientOrderId();
                return $"{count}|{id}|{order.ActingBlockLength}|{order.ActingVersion}|{fillCount}|{symbol}|{order.Limit}=={result.Length}|{response.Limit}";
            }
        }
        """;

    private const string CmeWalker = """
        public static class Walker
        {
            /// <summary>Decodes the message at offset (after its 2-byte MsgSize) and returns (template id, bytes consumed).</summary>
            public static long Walk(byte[] buffer, int offset)
            {
                var header = new Mktdata.MessageHeaderDecoder().Wrap(buffer, offset);
                int block = offset + Mktdata.MessageHeaderDecoder.EncodedLength;
                int limit;
                switch (header.TemplateId)
                {
                    case 46:
                    {
                        var m = new Mktdata.MDIncrementalRefreshBook46Decoder().WrapForDecode(buffer, block, header.BlockLength, header.Version);
                        var entries = m.NoMDEntries;
                        while (entries.HasNext) { entries.Next(); _ = entries.MDEntryPx.Mantissa; _ = entries.SecurityID; }
                        var orders = m.NoOrderIDEntries;
                        while (orders.HasNext) { orders.Next(); _ = orders.OrderID; }
                        limit = m.Limit;
                        break;
                    }
                    case 47:
                    {
                        var m = new Mktdata.MDIncrementalRefreshOrderBook47Decoder().WrapForDecode(buffer, block, header.BlockLength, header.Version);
                        var entries = m.NoMDEntries;
                        while (entries.HasNext) { entries.Next(); _ = entries.OrderID; }
                        limit = m.Limit;
                        break;
                    }
                    case 48:
                    {
                        var m = new Mktdata.MDIncrementalRefreshTradeSummary48Decoder().WrapForDecode(buffer, block, header.BlockLength, header.Version);
                        var entries = m.NoMDEntries;
                        while (entries.HasNext) { entries.Next(); _ = entries.MDEntryPx.Mantissa; _ = entries.AggressorSide; }
                        var orders = m.NoOrderIDEntries;
                        while (orders.HasNext) { orders.Next(); _ = orders.LastQty; }
                        limit = m.Limit;
                        break;
                    }
                    case 37:
                    {
                        var m = new Mktdata.MDIncrementalRefreshVolume37Decoder().WrapForDecode(buffer, block, header.BlockLength, header.Version);
                        var entries = m.NoMDEntries;
                        while (entries.HasNext) { entries.Next(); _ = entries.MDEntrySize; }
                        limit = m.Limit;
                        break;
                    }
                    default:
                        throw new System.InvalidOperationException("Unexpected template " + header.TemplateId);
                }

                return ((long)header.TemplateId << 32) | (uint)(limit - offset);
            }
        }
        """;

    // The FIX SBE 1.0 spec's examples (07Examples.md hex dumps), after their 6-byte Simple Open Framing Header.
    private const string FixWalker = """
        public static class Walker
        {
            private static string Price(Examples.OptionalDecimalEncodingDecoder price)
                => price.Mantissa == Examples.OptionalDecimalEncodingDecoder.MantissaNullValue ? "null" : price.Mantissa + "e" + price.Exponent;

            public static string NewOrderSingle(byte[] buffer, int offset)
            {
                var m = new Examples.NewOrderSingleDecoder().WrapAndApplyHeader(buffer, offset);
                return $"{m.GetClOrdId()}|{m.GetAccount()}|{m.GetSymbol()}|{m.Side}|{m.TransactTime}|{m.OrderQty.Mantissa}e{m.OrderQty.Exponent}|{m.OrdType}|{Price(m.Price)}|{Price(m.StopPx)}|{m.Limit}";
            }

            public static string ExecutionReport(byte[] buffer, int offset)
            {
                var m = new Examples.ExecutionReportDecoder().WrapAndApplyHeader(buffer, offset);
                var month = m.MaturityMonthYear;
                string text = $"{m.GetOrderID()}|{m.GetExecID()}|{m.ExecType}|{m.OrdStatus}|{m.GetSymbol()}|{month.Year}-{month.Month}-{month.Day}-{month.Week}|{m.Side}|{m.LeavesQty.Mantissa}|{m.CumQty.Mantissa}|{m.TradeDate}|";
                var fills = m.FillsGrp;
                while (fills.HasNext)
                {
                    fills.Next();
                    text += $"{Price(fills.FillPx)}x{fills.FillQty.Mantissa};";
                }

                return text + "|" + m.Limit;
            }

            public static string BusinessMessageReject(byte[] buffer, int offset)
            {
                var m = new Examples.BusinessMessageRejectDecoder().WrapAndApplyHeader(buffer, offset);
                string text = $"{m.GetBusinesRejectRefId()}|{m.BusinessRejectReason}|{m.TextLength()}|";
                text += System.Text.Encoding.ASCII.GetString(m.GetTextBytes());
                return text + "|" + m.Limit;
            }
        }
        """;

    private static readonly Lazy<Type> s_binance2 = new(() => Compile(ReferenceData.Path("exchanges", "binance", "spot_2_0.xml"), "Spot", BinanceWalker));
    private static readonly Lazy<Type> s_binance32 = new(() => Compile(ReferenceData.Path("exchanges", "binance", "spot_3_2.xml"), "Spot", Binance32Walker));
    private static readonly Lazy<Type> s_cme = new(() => Compile(SbeData.Path("reallogic", "test-resources", "FixBinary.xml"), "Mktdata", CmeWalker));
    private static readonly Lazy<Type> s_fix = new(() => Compile(SbeData.Path("fix-spec", "v1.0", "Examples.xml"), "Examples", FixWalker));

    // Expected values read from the hex dumps by hand (tests/data/sbe/README.md: trust the dumps, not the spec's tables):
    // TransactTime 0x152965133bb31680, price mantissas 0x1851a and 0x18524 with the schema's constant exponent -3,
    // StopPx 0x8000000000000000 (the optional int64's null), MaturityMonthYear 0x07de/06/ff/ff, TradeDate 0x3e75.
    [Theory]
    [InlineData("fixspec_NewOrderSingle_sofh_68.bin", "NewOrderSingle", "ORD00001|ACCT01|GEM4|Buy|1524861082122000000|7e0|Limit|99610e-3|null")]
    [InlineData("fixspec_ExecutionReport_sofh_84.bin", "ExecutionReport", "O0000001|EXEC0000|Trade|PartialFilled|GEM4|2014-6-255-255|Buy|1|6|15989|99610e-3x2;99620e-3x4;")]
    [InlineData("fixspec_BusinessMessageReject_sofh_64.bin", "BusinessMessageReject", "ORD00001|NotAuthorized|39|Not authorized to trade that instrument")]
    public void Fix_spec_examples_decode_after_their_framing_header_to_their_end(string file, string method, string expected)
    {
        byte[] bytes = File.ReadAllBytes(SbeData.Path("vectors", "fix-spec", file));
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32BigEndian(bytes)); // SOFH: message length, big-endian
        Assert.Equal(0xEB50, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(4))); // SOFH: SBE 1.0 little-endian

        string text = (string)s_fix.Value.GetMethod(method)!.Invoke(null, [bytes, 6])!;

        Assert.Equal(expected + "|" + bytes.Length, text);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_websocket_response_with_nested_book_ticker_decodes_to_its_end()
    {
        byte[] bytes = File.ReadAllBytes(ReferenceData.Path("vectors", "binance", "kyber_ws_bookticker_spot2v0_125.bin"));

        string text = Invoke(s_binance2, "BookTicker", bytes);

        Assert.Equal(
            "200|RequestWeight/Minute/1/6000/4;|85930b72-4eef-489d-8352-0e739da3b17d|-8|6889999000000|83374000|6890000000000|609203000|BTCUSDT|50==50|125",
            text);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_account_position_event_decodes_to_its_end()
    {
        byte[] bytes = File.ReadAllBytes(SbeData.Path("vectors", "binance", "nautilus-spot-3_2", "outbound_account_position_event_1.sbe"));

        string text = Invoke(s_binance32, "AccountPosition", bytes);

        Assert.Equal("2|1700000000000000|1700000000000000|65535|BTC:100000000e-8:0;BNB:28e-8:0;USDT:5000000000000e-8:0;|96", text);
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("execution_report_event_1.sbe", "Buy|Limit|Gtc|12345678|New|New|True|BTCUSDT|O-20200101-000000-000-000-0|", 329)]
    [InlineData("execution_report_event_2.sbe", "Buy|Limit|Gtc|12345678|Canceled|Canceled|", 350)]
    public void Binance_execution_reports_decode_to_their_end(string file, string prefix, int length)
    {
        byte[] bytes = File.ReadAllBytes(SbeData.Path("vectors", "binance", "nautilus-spot-3_2", file));
        Assert.Equal(length, bytes.Length);

        string text = Invoke(s_binance32, "ExecutionReport", bytes);

        Assert.StartsWith(prefix, text, StringComparison.Ordinal);
        Assert.EndsWith("|" + length, text, StringComparison.Ordinal);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_websocket_response_with_nested_order_decodes_to_its_end()
    {
        byte[] bytes = File.ReadAllBytes(SbeData.Path("vectors", "binance", "nautilus-spot-3_2", "web_socket_response_1.sbe"));

        string text = Invoke(s_binance32, "WebSocketResponse", bytes);

        Assert.Matches(@"^3\|ws-place\|153\|2\|\d+\|\w+\|203==203\|288$", text);
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("MdIncrementalRefreshBook.pcap")]
    [InlineData("MdIncrementalRefreshOrderBook.pcap")]
    [InlineData("MdIncrementalRefreshTradeSummary.pcap")]
    [InlineData("MdIncrementalRefreshVolume.pcap")]
    public void Cme_mdp3_packets_decode_message_by_message_to_each_MsgSize(string file)
    {
        MethodInfo walk = s_cme.Value.GetMethod("Walk")!;
        int messages = 0;
        foreach (byte[] payload in UdpPayloads(File.ReadAllBytes(ReferenceData.Path("vectors", "cme-mdp3", file))))
        {
            int position = 12; // MDP packet header: MsgSeqNum u32, SendingTime u64
            while (position < payload.Length)
            {
                int msgSize = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(position));
                long result = (long)walk.Invoke(null, [payload, position + 2])!;
                int templateId = (int)(result >> 32);
                int consumed = (int)(result & 0xffffffff);
                Assert.Contains(templateId, new[] { 37, 46, 47, 48 });
                Assert.Equal(msgSize - 2, consumed);
                position += msgSize;
                messages++;
            }

            Assert.Equal(payload.Length, position);
        }

        Assert.True(messages > 0);
    }

    private static string Invoke(Lazy<Type> walker, string method, byte[] bytes)
        => (string)walker.Value.GetMethod(method)!.Invoke(null, [bytes])!;

    internal static Type Compile(string path, string ns, string walker)
    {
        GeneratorOutcome outcome = GeneratorRunner.Run([InputFile.FromDisk(path, ns)], "#pragma warning disable CS1591\n" + walker);
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Empty(outcome.CompilationProblems);
        return GeneratorRunner.Load(outcome.Output).GetType("Walker")!;
    }

    /// <summary>UDP payloads of a classic little-endian pcap of Ethernet/IPv4/UDP frames.</summary>
    private static IEnumerable<byte[]> UdpPayloads(byte[] pcap)
    {
        Assert.Equal(0xa1b2c3d4u, BinaryPrimitives.ReadUInt32LittleEndian(pcap));
        int position = 24;
        while (position + 16 <= pcap.Length)
        {
            int captured = BinaryPrimitives.ReadInt32LittleEndian(pcap.AsSpan(position + 8));
            ReadOnlySpan<byte> frame = pcap.AsSpan(position + 16, captured);
            position += 16 + captured;
            int ip = 14;
            if (BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x8100)
            {
                ip += 4; // VLAN tag
            }

            int ipHeader = (frame[ip] & 0x0f) * 4;
            int ipTotal = BinaryPrimitives.ReadUInt16BigEndian(frame[(ip + 2)..]);
            int udp = ip + ipHeader;
            int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame[(udp + 4)..]);
            Assert.Equal(ipTotal - ipHeader, udpLength);
            yield return frame.Slice(udp + 8, udpLength - 8).ToArray();
        }
    }
}
