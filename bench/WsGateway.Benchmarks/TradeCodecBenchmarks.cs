using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using WsGateway.Sbe;

namespace WsGateway.Benchmarks;

/// <summary>
/// The SBE Trade codec against a floor (the same four reads with BinaryPrimitives and nothing else)
/// and against System.Text.Json with a source-generated context, all in one run so the ratios compare.
/// Run: <c>dotnet run -c Release --project bench/WsGateway.Benchmarks -- --filter '*Trade*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class TradeCodecBenchmarks
{
    private const int BatchSize = 1024;

    private readonly Trade _trade = new(12345, (byte)'B', 100.5, 1000);
    private readonly byte[] _message = new byte[Trade.EncodedSize];
    private readonly byte[] _destination = new byte[Trade.EncodedSize];
    private readonly byte[] _batch = new byte[BatchSize * Trade.EncodedSize];
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(256);
    private Utf8JsonWriter _jsonWriter = null!;
    private JsonTrade _jsonTrade;
    private byte[] _json = [];

    [GlobalSetup]
    public void Setup()
    {
        _trade.Encode(_message);

        var trades = new Trade[BatchSize];
        for (int i = 0; i < trades.Length; i++)
        {
            trades[i] = new Trade((ulong)i, (byte)('A' + (i % 26)), 100 + (i * 0.25), (uint)i);
        }

        Trade.EncodeToBuffer(trades, _batch);

        _jsonWriter = new Utf8JsonWriter(_jsonBuffer);
        _jsonTrade = JsonTrade.From(_trade);
        _json = JsonSerializer.SerializeToUtf8Bytes(_jsonTrade, TradeJsonContext.Default.JsonTrade);
    }

    [GlobalCleanup]
    public void Cleanup() => _jsonWriter.Dispose();

    /// <summary>Floor: one length check and the four field reads, no header validation.</summary>
    [Benchmark(Baseline = true)]
    public Trade Floor()
    {
        ReadOnlySpan<byte> source = _message;
        if (source.Length < Trade.EncodedSize)
        {
            throw new InvalidOperationException("short");
        }

        return new Trade(
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            source[16],
            BinaryPrimitives.ReadDoubleLittleEndian(source[17..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[25..]));
    }

    [Benchmark]
    public int Encode() => _trade.Encode(_destination);

    [Benchmark]
    public Trade Decode() => Trade.Decode(_message);

    [Benchmark]
    public Trade TryDecode()
    {
        Trade.TryDecode(_message, out Trade trade);
        return trade;
    }

    [Benchmark]
    public Trade TryDecodeWithError()
    {
        Trade.TryDecode(_message, out Trade trade, out _, out _);
        return trade;
    }

    [Benchmark]
    public Trade FlyweightDecode()
    {
        var decoder = new TradeDecoder().WrapAndApplyHeader(_message, 0);
        return new Trade(decoder.TradeId, decoder.Symbol, decoder.Price, decoder.Quantity);
    }

    /// <summary>Per trade: 1,024 trades read with <see cref="TradeBatchReader"/>, quantities summed.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong BatchDecodePerTrade()
    {
        ulong sum = 0;
        foreach (Trade trade in new TradeBatchReader(_batch))
        {
            sum += trade.Quantity;
        }

        return sum;
    }

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
