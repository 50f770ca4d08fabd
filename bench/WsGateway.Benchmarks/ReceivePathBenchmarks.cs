using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using WsGateway.Connections;
using WsGateway.Framing;
using WsGateway.Sbe;

namespace WsGateway.Benchmarks;

/// <summary>
/// The whole receive path of one open connection, per message: 10,000 masked frames written into the connection's
/// input pipe at once, parsed, unmasked and handed to the handler by the connection core (the same code both
/// transports run). Per message, so the read's fixed cost is shared by 10,000 frames, as in a throughput run. The
/// copy of the frames into the pipe (35 bytes each) is part of every operation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ReceivePathBenchmarks
{
    private const int Frames = 10_000;
    private byte[] _singles = [];
    private byte[] _batches = [];
    private Pipe _input = null!;
    private Pipe _output = null!;
    private CountingHandler _handler = null!;
    private ConnectionManager _manager = null!;

    [GlobalSetup]
    public void Setup()
    {
        byte[] trade = new Trade(12345, (byte)'B', 100.5, 1000).Encode();
        byte[] frame = new byte[FrameWriter.GetHeaderLength(trade.Length, masked: true) + trade.Length];
        FrameWriter.WriteHeader(frame, WebSocketOpcode.Binary, fin: true, trade.Length, maskKey: 0x3d21fa37);
        trade.CopyTo(frame.AsSpan(frame.Length - trade.Length));
        Masking.Apply(frame.AsSpan(frame.Length - trade.Length), 0x3d21fa37, 0);
        _singles = new byte[frame.Length * Frames];
        for (int i = 0; i < Frames; i++)
        {
            frame.CopyTo(_singles, i * frame.Length);
        }

        byte[] batch = new byte[64 * Trade.EncodedSize];
        for (int i = 0; i < 64; i++)
        {
            trade.CopyTo(batch, i * Trade.EncodedSize);
        }

        byte[] batchFrame = new byte[FrameWriter.GetHeaderLength(batch.Length, masked: true) + batch.Length];
        FrameWriter.WriteHeader(batchFrame, WebSocketOpcode.Binary, fin: true, batch.Length, maskKey: 0x3d21fa37);
        batch.CopyTo(batchFrame.AsSpan(batchFrame.Length - batch.Length));
        Masking.Apply(batchFrame.AsSpan(batchFrame.Length - batch.Length), 0x3d21fa37, 0);
        _batches = new byte[batchFrame.Length * (Frames / 64)];
        for (int i = 0; i < Frames / 64; i++)
        {
            batchFrame.CopyTo(_batches, i * batchFrame.Length);
        }

        _handler = new CountingHandler();
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20));
        _output = new Pipe();
        _manager = new ConnectionManager(new TradeGatewayOptions(), _ => _handler, TimeProvider.System, NullLoggerFactory.Instance);
        var connection = new WebSocketConnection(new DuplexPipe(_input.Reader, _output.Writer), _manager, null, null);
        _ = connection.RunUpgradedAsync("/", null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Writer.Complete();
        _manager.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public Task SingleTradeFrames() => Feed(_singles, Frames);

    [Benchmark(OperationsPerInvoke = Frames / 64 * 64)]
    public Task BatchFramesOf64PerTrade() => Feed(_batches, Frames / 64 * 64);

    private async Task Feed(byte[] frames, int trades)
    {
        long target = _handler.Count + trades;
        await _input.Writer.WriteAsync(frames);
        SpinWait spin = default;
        while (Volatile.Read(ref _handler.Count) < target)
        {
            spin.SpinOnce();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>Counts trades and sums quantities (touches the data).</summary>
    private sealed class CountingHandler : ITradeMessageHandler
    {
        public long Count;
        public ulong Quantity;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            Quantity += System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(25));
            Count++;
        }

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            for (int offset = 0; offset < data.Length; offset += messageSize)
            {
                Quantity += System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset + 25));
            }

            Count += data.Length / messageSize;
        }
    }
}
