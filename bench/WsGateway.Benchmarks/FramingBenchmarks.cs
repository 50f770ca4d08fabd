using BenchmarkDotNet.Attributes;
using WsGateway.Framing;
using WsGateway.Sbe;

namespace WsGateway.Benchmarks;

/// <summary>
/// The receive path's per-message pieces, in one run: frame header parse, unmasking, and the processor's dispatch of
/// one trade and of a 64-trade batch to a struct handler (devirtualised) and to the same handler through the
/// interface (what a handler factory gives the connection). Baseline: reading the four fields straight away.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class FramingBenchmarks
{
    private readonly byte[] _frame = new byte[6 + Trade.EncodedSize];
    private readonly byte[] _trade = new Trade(12345, (byte)'B', 100.5, 1000).Encode();
    private readonly byte[] _batch = new byte[64 * Trade.EncodedSize];
    private readonly byte[] _kib = new byte[1024];
    private TradeMessageProcessor<SumHandler> _structProcessor = null!;
    private TradeMessageProcessor<ITradeMessageHandler> _interfaceProcessor = null!;

    [GlobalSetup]
    public void Setup()
    {
        FrameWriter.WriteHeader(_frame, WebSocketOpcode.Binary, fin: true, Trade.EncodedSize, maskKey: 0x3d21fa37);
        Trade[] trades = new Trade[64];
        for (int i = 0; i < trades.Length; i++)
        {
            trades[i] = new Trade((ulong)i, (byte)'A', 1.5 * i, (uint)i);
        }

        Trade.EncodeToBuffer(trades, _batch);
        _structProcessor = TradeMessageProcessor.Create(new SumHandler());
        _interfaceProcessor = TradeMessageProcessor.Create<ITradeMessageHandler>(new SumHandler());
    }

    [Benchmark(Baseline = true)]
    public ulong ReadFieldsDirectly()
    {
        ReadOnlySpan<byte> s = _trade;
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(8))
            + System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(25));
    }

    [Benchmark]
    public long ParseFrameHeader()
    {
        FrameReader.TryReadHeader(_frame.AsSpan(), FrameMasking.Required, 1 << 20, out FrameHeader header, out _);
        return header.PayloadLength;
    }

    [Benchmark]
    public int Unmask29Bytes() => Masking.Apply(_frame.AsSpan(6), 0x3d21fa37, 0);

    [Benchmark]
    public int Unmask1KiB() => Masking.Apply(_kib, 0x3d21fa37, 0);

    [Benchmark]
    public ProcessResult ProcessTradeStructHandler() => _structProcessor.Process(_trade);

    [Benchmark]
    public ProcessResult ProcessTradeInterfaceHandler() => _interfaceProcessor.Process(_trade);

    [Benchmark(OperationsPerInvoke = 64)]
    public ProcessResult ProcessBatchOf64PerTrade() => _structProcessor.Process(_batch);

    /// <summary>Sums quantities: touches the data so the work cannot be skipped.</summary>
    public struct SumHandler : ITradeMessageHandler
    {
        public ulong Sum;

        public void OnTrade(ReadOnlySpan<byte> data) => Sum += System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(25));

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            for (int offset = 0; offset < data.Length; offset += messageSize)
            {
                Sum += System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset + 25));
            }
        }
    }
}
