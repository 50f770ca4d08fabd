using BenchmarkDotNet.Attributes;
using WsGateway.Benchmarks.Reference;
using WsGateway.Sbe;
using Gen = WsGateway.Benchmarks.Generated;

namespace WsGateway.Benchmarks;

/// <summary>
/// Code generated from SBE schemas against the hand-written codec it replaced, in one run: WsGateway.Sbe's
/// <see cref="TradeDecoder"/>/<see cref="TradeEncoder"/> (generated from <c>schemas/trade.xml</c>, with checked wraps),
/// the same schema generated without checks (sbe-tool semantics), and the replaced hand-written flyweights (baseline,
/// kept under Reference/); and the Car example (<c>example-schema.xml</c>: composites, a fixed array, groups, nested
/// groups, var data) encoded and decoded whole.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class GeneratedCodecBenchmarks
{
    private readonly byte[] _trade = new Trade(12345, (byte)'B', 100.5, 1000).Encode();
    private readonly byte[] _out = new byte[256];
    private readonly byte[] _car = new byte[256];
    private int _carLength;

    [GlobalSetup]
    public void Setup() => _carLength = EncodeCar(_car);

    [Benchmark(Baseline = true)]
    public double ReplacedHandWrittenDecode()
    {
        var d = new HandWrittenTradeDecoder().WrapForDecode(_trade, MessageHeader.EncodedLength, Trade.BlockLength, 0);
        return d.TradeId + d.Symbol + d.Price + d.Quantity;
    }

    [Benchmark]
    public double GeneratedCheckedDecode()
    {
        var d = new TradeDecoder().WrapForDecode(_trade, MessageHeader.EncodedLength, Trade.BlockLength, 0);
        return d.TradeId + d.Symbol + d.Price + d.Quantity;
    }

    [Benchmark]
    public double GeneratedUncheckedDecode()
    {
        var d = new Gen.TradeDecoder().WrapForDecode(_trade, Gen.MessageHeaderDecoder.EncodedLength, Gen.TradeDecoder.SbeBlockLength, 0);
        return d.TradeId + d.Symbol + d.Price + d.Quantity;
    }

    [Benchmark]
    public double ReplacedHandWrittenDecodeWithHeader()
    {
        var d = new HandWrittenTradeDecoder().WrapAndApplyHeader(_trade, 0);
        return d.TradeId + d.Symbol + d.Price + d.Quantity;
    }

    [Benchmark]
    public double GeneratedCheckedDecodeWithHeader()
    {
        var d = new TradeDecoder().WrapAndApplyHeader(_trade, 0);
        return d.TradeId + d.Symbol + d.Price + d.Quantity;
    }

    [Benchmark]
    public int ReplacedHandWrittenEncode()
    {
        var e = new HandWrittenTradeEncoder().WrapAndApplyHeader(_out, 0);
        e.TradeId = 12345;
        e.Symbol = (byte)'B';
        e.Price = 100.5;
        e.Quantity = 1000;
        return MessageHeader.EncodedLength + e.EncodedLength;
    }

    [Benchmark]
    public int GeneratedCheckedEncode()
    {
        var e = new TradeEncoder().WrapAndApplyHeader(_out, 0);
        e.TradeId = 12345;
        e.Symbol = (byte)'B';
        e.Price = 100.5;
        e.Quantity = 1000;
        return MessageHeader.EncodedLength + e.EncodedLength;
    }

    [Benchmark]
    public int GeneratedUncheckedEncode()
    {
        var e = new Gen.TradeEncoder().WrapAndApplyHeader(_out, 0);
        e.TradeId = 12345;
        e.Symbol = (byte)'B';
        e.Price = 100.5;
        e.Quantity = 1000;
        return Gen.MessageHeaderEncoder.EncodedLength + e.EncodedLength;
    }

    [Benchmark]
    public int CarEncode() => EncodeCar(_out);

    [Benchmark]
    public long CarDecode()
    {
        var car = new Baseline.CarDecoder().WrapAndApplyHeader(_car.AsSpan(0, _carLength), 0);
        long sum = (long)car.SerialNumber + car.ModelYear + (long)car.Code + car.GetSomeNumbers(0) + car.Engine.Capacity + car.Engine.Booster.HorsePower;
        var fuel = car.FuelFigures;
        while (fuel.HasNext)
        {
            fuel.Next();
            sum += fuel.Speed + (long)fuel.Mpg + fuel.UsageDescriptionLength();
            fuel.SkipUsageDescription();
        }

        var performance = car.PerformanceFigures;
        while (performance.HasNext)
        {
            performance.Next();
            sum += performance.OctaneRating;
            var acceleration = performance.Acceleration;
            while (acceleration.HasNext)
            {
                acceleration.Next();
                sum += acceleration.Mph + (long)acceleration.Seconds;
            }
        }

        sum += car.ManufacturerLength();
        car.SkipManufacturer();
        sum += car.ModelLength();
        car.SkipModel();
        sum += car.ActivationCodeLength();
        car.SkipActivationCode();
        return sum + car.EncodedLength;
    }

    private static int EncodeCar(Span<byte> buffer)
    {
        var car = new Baseline.CarEncoder().WrapAndApplyHeader(buffer, 0);
        car.SerialNumber = 1234;
        car.ModelYear = 2013;
        car.Available = Baseline.BooleanType.T;
        car.Code = Baseline.Model.A;
        for (int i = 0; i < 4; i++) // someNumbers is a uint32 array of length 4
        {
            car.SetSomeNumbers(i, (uint)i);
        }

        car.SetVehicleCode("abcdef");
        car.Extras = Baseline.OptionalExtras.SportsPack | Baseline.OptionalExtras.CruiseControl;
        car.Engine.Capacity = 2000;
        car.Engine.NumCylinders = 4;
        car.Engine.SetManufacturerCode("123");
        car.Engine.Efficiency = 35;
        car.Engine.BoosterEnabled = Baseline.BooleanType.T;
        car.Engine.Booster.BoostType = Baseline.BoostType.NITROUS;
        car.Engine.Booster.HorsePower = 200;
        var fuel = car.FuelFiguresCount(3);
        fuel.Next().Speed = 30;
        fuel.Mpg = 35.9f;
        fuel.SetUsageDescription("Urban Cycle");
        fuel.Next().Speed = 55;
        fuel.Mpg = 49.0f;
        fuel.SetUsageDescription("Combined Cycle");
        fuel.Next().Speed = 75;
        fuel.Mpg = 40.0f;
        fuel.SetUsageDescription("Highway Cycle");
        var performance = car.PerformanceFiguresCount(2);
        for (int p = 0; p < 2; p++)
        {
            performance.Next().OctaneRating = (byte)(95 + (p * 4));
            var acceleration = performance.AccelerationCount(3);
            acceleration.Next().Mph = 30;
            acceleration.Seconds = 4.0f;
            acceleration.Next().Mph = 60;
            acceleration.Seconds = 7.5f;
            acceleration.Next().Mph = 100;
            acceleration.Seconds = 12.2f;
        }

        car.SetManufacturer("Honda");
        car.SetModel("Civic VTi");
        car.SetActivationCode("abcdef");
        return Baseline.MessageHeaderEncoder.EncodedLength + car.EncodedLength;
    }
}
