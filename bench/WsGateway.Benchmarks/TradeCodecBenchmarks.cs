using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using WsGateway.Sbe;

namespace WsGateway.Benchmarks;

/// <summary>
/// The SBE Trade codec against a floor (the same four reads with BinaryPrimitives and nothing else)
/// and against System.Text.Json with a source-generated context (one trade per call), all in one run so the ratios compare.
/// Run: <c>dotnet run -c Release --project bench/WsGateway.Benchmarks -- --filter '*Trade*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TradeCodecBenchmarks
{
    private const int BatchSize = 1024;

    private readonly Trade _trade = new(12345, (byte)'B', 100.5, 1000);
    private readonly Trade[] _trades = new Trade[BatchSize];
    private readonly byte[] _batch = new byte[BatchSize * Trade.EncodedSize];
    private readonly byte[] _encodeBuffer = new byte[BatchSize * Trade.EncodedSize];
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(256);
    private Utf8JsonWriter _jsonWriter = null!;
    private JsonTrade _jsonTrade;
    private byte[] _json = [];

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < _trades.Length; i++)
        {
            _trades[i] = new Trade((ulong)i, (byte)('A' + (i % 26)), 100 + (i * 0.25), (uint)i);
        }

        Trade.EncodeToBuffer(_trades, _batch);

        _jsonWriter = new Utf8JsonWriter(_jsonBuffer);
        _jsonTrade = JsonTrade.From(_trade);
        _json = JsonSerializer.SerializeToUtf8Bytes(_jsonTrade, TradeJsonContext.Default.JsonTrade);
    }

    [GlobalCleanup]
    public void Cleanup() => _jsonWriter.Dispose();

    // SBE benchmarks are per message over 1,024 distinct messages (OperationsPerInvoke): a single
    // ~1 ns decode is below what a shared 2-core machine measures reliably. Every decoder's result
    // goes through Consume, which uses all four fields, so no read can be dropped.

    /// <summary>Floor: one length check and the four field reads, no header validation.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BatchSize)]
    public ulong Floor()
    {
        ReadOnlySpan<byte> batch = _batch;
        ulong sum = 0;
        for (int offset = 0; offset < batch.Length; offset += Trade.EncodedSize)
        {
            ReadOnlySpan<byte> source = batch[offset..];
            if (source.Length < Trade.EncodedSize)
            {
                throw new InvalidOperationException("short");
            }

            sum += Consume(new Trade(
                BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
                source[16],
                BinaryPrimitives.ReadDoubleLittleEndian(source[17..]),
                BinaryPrimitives.ReadUInt32LittleEndian(source[25..])));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int Encode()
    {
        Span<byte> batch = _encodeBuffer;
        int written = 0;
        for (int i = 0; i < _trades.Length; i++)
        {
            written += _trades[i].Encode(batch[written..]);
        }

        return written;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong Decode()
    {
        ReadOnlySpan<byte> batch = _batch;
        ulong sum = 0;
        for (int offset = 0; offset < batch.Length; offset += Trade.EncodedSize)
        {
            sum += Consume(Trade.Decode(batch[offset..]));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong TryDecode()
    {
        ReadOnlySpan<byte> batch = _batch;
        ulong sum = 0;
        for (int offset = 0; offset < batch.Length; offset += Trade.EncodedSize)
        {
            if (Trade.TryDecode(batch[offset..], out Trade trade))
            {
                sum += Consume(trade);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong TryDecodeWithError()
    {
        ReadOnlySpan<byte> batch = _batch;
        ulong sum = 0;
        int offset = 0;
        while (offset < batch.Length)
        {
            if (!Trade.TryDecode(batch[offset..], out Trade trade, out int consumed, out SbeDecodeError error))
            {
                return (ulong)error.Status;
            }

            sum += Consume(trade);
            offset += consumed;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong FlyweightDecode()
    {
        ReadOnlySpan<byte> batch = _batch;
        ulong sum = 0;
        var decoder = default(TradeDecoder);
        for (int offset = 0; offset < batch.Length; offset = decoder.Limit)
        {
            decoder = decoder.WrapAndApplyHeader(batch, offset);
            sum += decoder.TradeId ^ decoder.Quantity ^ decoder.Symbol ^ (ulong)BitConverter.DoubleToInt64Bits(decoder.Price);
        }

        return sum;
    }

    /// <summary>1,024 trades read with <see cref="TradeBatchReader"/>, quantities summed (the brief's batch case).</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong BatchReaderSumQuantities()
    {
        ulong sum = 0;
        foreach (Trade trade in new TradeBatchReader(_batch))
        {
            sum += trade.Quantity;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong BatchReader()
    {
        ulong sum = 0;
        foreach (Trade trade in new TradeBatchReader(_batch))
        {
            sum += Consume(trade);
        }

        return sum;
    }

    private static ulong Consume(in Trade trade)
        => trade.TradeId ^ trade.Quantity ^ trade.Symbol ^ (ulong)BitConverter.DoubleToInt64Bits(trade.Price);

    /// <summary>JSON encode into a reused buffer (no per-call array), the cheapest way System.Text.Json offers.</summary>
    [Benchmark]
    public int JsonSerialize()
    {
        _jsonBuffer.ResetWrittenCount();
        _jsonWriter.Reset();
        JsonSerializer.Serialize(_jsonWriter, _jsonTrade, TradeJsonContext.Default.JsonTrade);
        return _jsonBuffer.WrittenCount;
    }

    [Benchmark]
    public JsonTrade JsonDeserialize() => JsonSerializer.Deserialize(_json, TradeJsonContext.Default.JsonTrade);
}

/// <summary>The trade as JSON sees it; a struct with a <see cref="char"/> symbol so deserializing needs no allocation.</summary>
public struct JsonTrade
{
    public ulong TradeId { get; set; }

    public char Symbol { get; set; }

    public double Price { get; set; }

    public uint Quantity { get; set; }

    public static JsonTrade From(Trade trade)
        => new() { TradeId = trade.TradeId, Symbol = trade.SymbolChar, Price = trade.Price, Quantity = trade.Quantity };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JsonTrade))]
public sealed partial class TradeJsonContext : JsonSerializerContext;

internal static class PayloadSizes
{
    public static void Print()
    {
        var trade = new Trade(12345, (byte)'B', 100.5, 1000);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(JsonTrade.From(trade), TradeJsonContext.Default.JsonTrade);
        Console.WriteLine($"{trade}");
        Console.WriteLine($"SBE:  {trade.Encode().Length} bytes");
        Console.WriteLine($"JSON: {json.Length} bytes  {System.Text.Encoding.UTF8.GetString(json)}");
    }
}
