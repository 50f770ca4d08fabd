using Baseline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// Code generated (in this assembly, by the analyzer reference) from Real Logic's Car schemas decodes the
/// real encoded Cars of tests/data/sbe/vectors/car to the values of tests/data/sbe/README.md and re-encodes them bit-exact.
/// </summary>
public sealed class CarExecutionTests
{
    private static byte[] Vector(string name) => File.ReadAllBytes(SbeData.Path("vectors", "car", name));

    [Fact]
    public void Baseline_vector_decodes_to_the_published_values_and_ends_at_207()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");

        var header = new Baseline.MessageHeaderDecoder().Wrap(bytes, 0);
        Assert.Equal((45, 1, 1, 0), (header.BlockLength, header.TemplateId, header.SchemaId, header.Version));

        CarValues decoded = BaselineCar.Decode(bytes, out int limit);

        Assert.Equivalent(CarValues.Baseline(1, 2, 3, 4), decoded, strict: true);
        Assert.Equal(207, limit);
    }

    [Fact]
    public void Baseline_vector_re_encodes_bit_exact()
    {
        byte[] expected = Vector("car_baseline_le_207.sbe");
        var buffer = new byte[512];

        int length = BaselineCar.Encode(CarValues.Baseline(1, 2, 3, 4), buffer);

        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void Baseline_decoder_constants_and_field_accessors_match_the_schema()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");
        var car = new Baseline.CarDecoder().WrapAndApplyHeader(bytes, 0);

        Assert.Equal(45, Baseline.CarDecoder.SbeBlockLength);
        Assert.Equal(1, Baseline.CarDecoder.SbeTemplateId);
        Assert.Equal(8, car.Offset);
        Assert.Equal(Baseline.Model.C, car.DiscountedModel);
        Assert.Equal(9000, car.Engine.MaxRpm);
        Assert.Equal("Petrol", car.Engine.Fuel);
        Assert.True(car.Extras.GetSportsPack());
        Assert.True(car.Extras.GetCruiseControl());
        Assert.False(car.Extras.GetSunRoof());
        Assert.Equal(Baseline.OptionalExtras.SunRoof | Baseline.OptionalExtras.CruiseControl, car.Extras.SetSunRoof(true).SetSportsPack(false));
        Assert.Equal(Baseline.BoostType.NITROUS, car.Engine.Booster.BoostType);
        Assert.Equal(90, Baseline.CarDecoder.PerformanceFiguresDecoder.OctaneRatingMinValue);
        Assert.Equal(110, Baseline.CarDecoder.PerformanceFiguresDecoder.OctaneRatingMaxValue);
        Assert.Equal(uint.MaxValue, Baseline.CarDecoder.SomeNumbersNullValue);
        Assert.Equal("abcdef"u8.ToArray(), car.VehicleCodeAsSpan().ToArray());
        Assert.Equal(4, Baseline.CarDecoder.FuelFiguresDecoder.SbeHeaderSize);
    }

    [Fact]
    public void Big_endian_vector_decodes_and_re_encodes_bit_exact()
    {
        byte[] bytes = Vector("car_bigendian_211.bin");
        Assert.Equal(0x00, bytes[0]);
        Assert.Equal(49, new Baseline_bigendian.MessageHeaderDecoder().Wrap(bytes, 0).BlockLength);

        CarValues decoded = BigEndianCar.Decode(bytes, out int limit);
        Assert.Equivalent(CarValues.Baseline(0, 1, 2, 3, 4), decoded, strict: true);
        Assert.Equal(211, limit);

        var buffer = new byte[512];
        int length = BigEndianCar.Encode(decoded, buffer);
        Assert.Equal(bytes, buffer[..length]);
    }

    [Fact]
    public void Little_endian_twin_of_the_big_endian_vector_decodes_and_re_encodes_bit_exact()
    {
        byte[] bytes = Vector("car_testschema_le_211.bin");

        CarValues decoded = TestSchemaCar.Decode(bytes, out int limit);
        Assert.Equivalent(CarValues.Baseline(0, 1, 2, 3, 4), decoded, strict: true);
        Assert.Equal(211, limit);

        var buffer = new byte[512];
        int length = TestSchemaCar.Encode(decoded, buffer);
        Assert.Equal(bytes, buffer[..length]);
    }

    [Fact]
    public void Version_1_decoder_reads_a_version_0_message_with_the_new_fields_absent()
    {
        byte[] bytes = Vector("car_extension_le_207.sbe");

        var car = new Extension.CarDecoder().WrapAndApplyHeader(bytes, 0);

        Assert.Equal(0, car.ActingVersion);
        Assert.Equal(45, car.ActingBlockLength);
        Assert.Equal(1, Extension.CarDecoder.SbeSchemaVersion);
        Assert.True(Extension.CarDecoder.SbeBlockLength > 45);
        Assert.False(car.UuidInActingVersion());
        Assert.False(car.CupHolderCountInActingVersion());
        Assert.Equal(Extension.CarDecoder.UuidNullValue, car.GetUuid(0));
        Assert.Equal(Extension.CarDecoder.CupHolderCountNullValue, car.CupHolderCount);
        Assert.Equal(1234UL, car.SerialNumber);
        Assert.Equal([0u, 1u, 2u, 3u], [car.GetSomeNumbers(0), car.GetSomeNumbers(1), car.GetSomeNumbers(2), car.GetSomeNumbers(3)]);

        var fuel = car.FuelFigures;
        Assert.Equal(3, fuel.Count);
        while (fuel.HasNext)
        {
            fuel.Next();
            fuel.SkipUsageDescription();
        }

        var performance = car.PerformanceFigures;
        while (performance.HasNext)
        {
            performance.Next();
            var acceleration = performance.Acceleration;
            while (acceleration.HasNext)
            {
                acceleration.Next();
            }
        }

        Assert.Equal("Honda", car.GetManufacturer());
        Assert.Equal("Civic VTi", car.GetModel());
        Assert.Equal("abcdef", car.GetActivationCode());
        Assert.Equal(207, car.Limit);
    }

    [Fact]
    public void Version_1_decoder_needs_only_the_version_0_root_block_in_the_buffer()
    {
        byte[] vector = Vector("car_extension_le_207.sbe");
        byte[] rootOnly = vector[..(8 + 45)]; // header + the version 0 block: nothing of version 1 is there

        var car = new Extension.CarDecoder().WrapAndApplyHeader(rootOnly, 0);

        Assert.Equal(1234UL, car.SerialNumber);
        Assert.Equal(2013, car.ModelYear);
        Assert.Equal("abcdef", car.GetVehicleCode());
        Assert.Equal(Extension.CarDecoder.CupHolderCountNullValue, car.CupHolderCount);
        Assert.Equal(Extension.CarDecoder.UuidNullValue, car.GetUuid(1));

        // One byte short of the fields every version has: refused when wrapping, not at some later read.
        Assert.Throws<ArgumentOutOfRangeException>(() => new Extension.CarDecoder().WrapForDecode(vector[..(8 + 44)], 8, 45, 0));
        // An encoder needs room for this version's whole block.
        Assert.Throws<ArgumentOutOfRangeException>(() => new Extension.CarEncoder().WrapForEncode(new byte[8 + Extension.CarEncoder.SbeBlockLength - 1], 8));
    }

    [Fact]
    public void Version_0_decoder_skips_fields_appended_by_version_1()
    {
        var buffer = new byte[512];
        var encoder = new Extension.CarEncoder().WrapAndApplyHeader(buffer, 0);
        encoder.SerialNumber = 77;
        encoder.SetUuid(0, 11);
        encoder.SetUuid(1, 22);
        encoder.CupHolderCount = 3;
        var fuelEncoder = encoder.FuelFiguresCount(1);
        fuelEncoder.Next().Speed = 88;
        fuelEncoder.SetUsageDescription(string.Empty);
        encoder.PerformanceFiguresCount(0);
        encoder.SetManufacturer("M");
        encoder.SetModel(string.Empty);
        encoder.SetActivationCode("A");
        int length = Extension.MessageHeaderEncoder.EncodedLength + encoder.EncodedLength;

        // The version 0 decoder uses the header's block length to find the first group.
        var old = new Baseline.CarDecoder().WrapAndApplyHeader(buffer, 0);
        Assert.Equal(Extension.CarEncoder.SbeBlockLength, old.ActingBlockLength);
        Assert.Equal(77UL, old.SerialNumber);
        var fuel = old.FuelFigures;
        Assert.Equal(88, fuel.Next().Speed);
        Assert.Equal(string.Empty, fuel.GetUsageDescription());
        Assert.Equal(0, old.PerformanceFigures.Count);
        Assert.Equal("M", old.GetManufacturer());
        Assert.Equal(string.Empty, old.GetModel());
        Assert.Equal("A", old.GetActivationCode());
        Assert.Equal(length, old.Limit);
    }

    [Property(MaxTest = 200)]
    public Property Random_cars_round_trip_little_and_big_endian()
        => Prop.ForAll(CarArbitrary(), values =>
        {
            var buffer = new byte[4096];
            int length = BaselineCar.Encode(values, buffer);
            CarValues decoded = BaselineCar.Decode(buffer, out int limit);
            Assert.Equivalent(values, decoded, strict: true);
            Assert.Equal(length, limit);

            int encodedAgain = BaselineCar.Encode(decoded, buffer.AsSpan(2048));
            Assert.Equal(buffer[..length], buffer[2048..(2048 + encodedAgain)]);

            CarValues wide = values with { SomeNumbers = [.. values.SomeNumbers, 5u] };
            var big = new byte[4096];
            int bigLength = BigEndianCar.Encode(wide, big);
            Assert.Equivalent(wide, BigEndianCar.Decode(big, out int bigLimit), strict: true);
            Assert.Equal(bigLength, bigLimit);
        });

    private static Arbitrary<CarValues> CarArbitrary()
    {
        Gen<string> ascii(int max) => Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(Gen.Choose(0x21, 0x7e).Select(c => (char)c), n)).Select(a => new string(a));
        Gen<float> floats = Gen.Choose(-100000, 100000).Select(i => i / 8f);
        Gen<FuelFigure> fuel = from speed in Gen.Choose(0, ushort.MaxValue)
                               from mpg in floats
                               from text in ascii(40)
                               select new FuelFigure((ushort)speed, mpg, text);
        Gen<Acceleration> acceleration = from mph in Gen.Choose(0, ushort.MaxValue)
                                         from seconds in floats
                                         select new Acceleration((ushort)mph, seconds);
        Gen<PerformanceFigure> performance = from octane in Gen.Choose(0, 255)
                                             from count in Gen.Choose(0, 4)
                                             from items in Gen.ArrayOf(acceleration, count)
                                             select new PerformanceFigure((byte)octane, items);
        Gen<CarValues> car = from serial in ArbMap.Default.GeneratorFor<ulong>()
                             from year in Gen.Choose(0, ushort.MaxValue)
                             from available in Gen.Choose(0, 1)
                             from code in Gen.Elements((byte)'A', (byte)'B', (byte)'C')
                             from numbers in Gen.ArrayOf(ArbMap.Default.GeneratorFor<uint>(), 4)
                             from vehicleCode in ascii(6)
                             from extras in Gen.Choose(0, 7)
                             from capacity in Gen.Choose(0, ushort.MaxValue)
                             from cylinders in Gen.Choose(0, 255)
                             from manufacturerCode in ascii(3)
                             from efficiency in Gen.Choose(-128, 127)
                             from boost in Gen.Elements((byte)'T', (byte)'S', (byte)'N', (byte)'K')
                             from horsePower in Gen.Choose(0, 255)
                             from fuelCount in Gen.Choose(0, 5)
                             from fuels in Gen.ArrayOf(fuel, fuelCount)
                             from performanceCount in Gen.Choose(0, 3)
                             from performances in Gen.ArrayOf(performance, performanceCount)
                             from manufacturer in ascii(30)
                             from model in ascii(30)
                             from activation in ascii(30)
                             select new CarValues(
                                 serial, (ushort)year, (byte)available, code, numbers, vehicleCode, (byte)extras, (ushort)capacity, (byte)cylinders,
                                 manufacturerCode, (sbyte)efficiency, (byte)available, boost, (byte)horsePower, fuels, performances, manufacturer, model, activation);
        return car.ToArbitrary();
    }
}
