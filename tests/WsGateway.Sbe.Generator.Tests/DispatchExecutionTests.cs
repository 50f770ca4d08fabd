using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// The generated typed dispatch (handler interface and dispatcher, generated into this assembly from the Car schemas)
/// on the real Car vectors: the right method with the right decoder, the message length found by walking the
/// groups and var data, and the not-dispatched outcomes with their numbers, never an exception.
/// </summary>
public sealed class DispatchExecutionTests
{
    private static byte[] Vector(string name) => File.ReadAllBytes(SbeData.Path("vectors", "car", name));

    [Fact]
    public void Baseline_car_goes_to_OnCar_with_a_decoder_sliced_to_the_207_byte_message()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");
        var handler = new BaselineHandler();

        Baseline.SbeDispatchResult result = Baseline.BaselineMessageDispatcher.Dispatch(bytes, ref handler);

        Assert.Equal(Baseline.SbeDispatchStatus.Dispatched, result.Status);
        Assert.True(result.IsDispatched);
        Assert.Equal((1, 1, 0, 45, 207), (result.TemplateId, result.SchemaId, result.Version, result.BlockLength, result.MessageLength));
        Assert.Equal(1, handler.Cars);
        Assert.Equal(207, handler.BufferLength);
        Assert.Equal((45, 0), (handler.ActingBlockLength, handler.ActingVersion));
        Assert.Equivalent(CarValues.Baseline(1, 2, 3, 4), handler.Decoded, strict: true);
        Assert.Equal(0, handler.Unknown);
    }

    [Fact]
    public void Back_to_back_cars_are_found_by_MessageLength()
    {
        byte[] one = Vector("car_baseline_le_207.sbe");
        byte[] three = [.. one, .. one, .. one];
        var handler = new BaselineHandler();
        var lengths = new List<int>();

        for (int offset = 0; offset < three.Length;)
        {
            Baseline.SbeDispatchResult result = Baseline.BaselineMessageDispatcher.Dispatch(three.AsSpan(offset), ref handler);
            Assert.True(result.IsDispatched, result.ToString());
            lengths.Add(result.MessageLength);
            offset += result.MessageLength;
        }

        Assert.Equal([207, 207, 207], lengths);
        Assert.Equal(3, handler.Cars);
    }

    [Fact]
    public void Every_truncation_of_a_car_is_TooShort_and_calls_nothing()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");
        var handler = new BaselineHandler();

        for (int length = 0; length < bytes.Length; length++)
        {
            Baseline.SbeDispatchResult result = Baseline.BaselineMessageDispatcher.Dispatch(bytes.AsSpan(0, length), ref handler);
            Assert.Equal(Baseline.SbeDispatchStatus.TooShort, result.Status);
            Assert.Equal(length, result.AvailableLength);
            Assert.True(result.RequiredLength > length, $"{length}: {result}");
            Assert.Equal(0, result.MessageLength);
        }

        Assert.Equal(0, handler.Cars + handler.Unknown);
        Assert.Equal("message too short: 7 bytes, needs at least 8", Baseline.BaselineMessageDispatcher.Dispatch(bytes.AsSpan(0, 7), ref handler).ToString());
        Assert.Equal("message too short: 52 bytes, needs at least 53 (template id 1)", Baseline.BaselineMessageDispatcher.Dispatch(bytes.AsSpan(0, 52), ref handler).ToString());
    }

    [Fact]
    public void Other_schema_and_unknown_template_are_reported_with_their_ids()
    {
        byte[] otherSchema = Vector("car_baseline_le_207.sbe");
        otherSchema[4] = 7;
        byte[] unknown = Vector("car_baseline_le_207.sbe");
        unknown[2] = 42;
        var handler = new BaselineHandler();

        Baseline.SbeDispatchResult wrong = Baseline.BaselineMessageDispatcher.Dispatch(otherSchema, ref handler);
        Baseline.SbeDispatchResult notKnown = Baseline.BaselineMessageDispatcher.Dispatch(unknown, ref handler);

        Assert.Equal(Baseline.SbeDispatchStatus.WrongSchema, wrong.Status);
        Assert.Equal((7, 1, 1), (wrong.SchemaId, wrong.ExpectedSchemaId, wrong.TemplateId));
        Assert.Equal("schema id 7, expected 1 (template id 1)", wrong.ToString());
        Assert.Equal(Baseline.SbeDispatchStatus.UnknownTemplate, notKnown.Status);
        Assert.Equal("unknown template id 42 in schema 1 (known: 1)", notKnown.ToString());
        Assert.Equal((1, 42, 207), (handler.Unknown, handler.LastUnknownTemplateId, handler.LastUnknownLength));
        Assert.Equal(0, handler.Cars);
    }

    [Fact]
    public void A_block_length_smaller_than_the_fields_of_the_version_is_refused()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");
        bytes[0] = 10; // blockLength 10 instead of 45
        var handler = new BaselineHandler();

        Baseline.SbeDispatchResult result = Baseline.BaselineMessageDispatcher.Dispatch(bytes, ref handler);

        Assert.Equal(Baseline.SbeDispatchStatus.InvalidBlockLength, result.Status);
        Assert.InRange(result.RequiredLength, 11, 45);
        Assert.Equal($"block length 10 of template id 1 is less than the {result.RequiredLength} bytes of its fields in version 0", result.ToString());
        Assert.Equal(0, handler.Cars);
    }

    [Fact]
    public void Version_1_dispatcher_reads_a_version_0_car_with_the_acting_version_and_block_length()
    {
        byte[] bytes = Vector("car_baseline_le_207.sbe");
        var handler = new ExtensionHandler();

        Extension.SbeDispatchResult result = Extension.ExtensionMessageDispatcher.Dispatch(bytes, ref handler);

        Assert.True(result.IsDispatched, result.ToString());
        Assert.Equal(207, result.MessageLength);
        Assert.Equal((0, 45, 1234UL), (handler.ActingVersion, handler.ActingBlockLength, handler.SerialNumber));
    }

    [Fact]
    public void Big_endian_car_dispatches_to_its_211_byte_end()
    {
        byte[] bytes = Vector("car_bigendian_211.bin");
        var handler = new BigEndianHandler();

        Baseline_bigendian.SbeDispatchResult result = Baseline_bigendian.Baseline_bigendianMessageDispatcher.Dispatch(bytes, ref handler);

        Assert.True(result.IsDispatched, result.ToString());
        Assert.Equal(211, result.MessageLength);
        Assert.Equal(1, handler.Cars);
    }

    [Fact]
    public void Dispatching_to_a_struct_handler_allocates_nothing()
    {
        byte[] bytes = Vector("car_bigendian_211.bin");
        var handler = new BigEndianHandler();
        Baseline_bigendian.Baseline_bigendianMessageDispatcher.Dispatch(bytes, ref handler); // JIT

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Baseline_bigendian.Baseline_bigendianMessageDispatcher.Dispatch(bytes, ref handler);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1001, handler.Cars);
    }

    /// <summary>A struct handler: the dispatcher is generic over it, so its methods are called directly.</summary>
    private struct BaselineHandler : Baseline.IBaselineMessageHandler
    {
        public int Cars;
        public int BufferLength;
        public int ActingBlockLength;
        public int ActingVersion;
        public CarValues? Decoded;
        public int Unknown;
        public int LastUnknownTemplateId;
        public int LastUnknownLength;

        public void OnCar(Baseline.CarDecoder car)
        {
            Cars++;
            BufferLength = car.Buffer.Length;
            ActingBlockLength = car.ActingBlockLength;
            ActingVersion = car.ActingVersion;
            Decoded = BaselineCar.Decode(car.Buffer, out _);
        }

        public void OnUnknownMessage(int templateId, ReadOnlySpan<byte> message)
        {
            Unknown++;
            LastUnknownTemplateId = templateId;
            LastUnknownLength = message.Length;
        }
    }

    private struct ExtensionHandler : Extension.IExtensionMessageHandler
    {
        public int ActingVersion;
        public int ActingBlockLength;
        public ulong SerialNumber;

        public void OnCar(Extension.CarDecoder car)
        {
            ActingVersion = car.ActingVersion;
            ActingBlockLength = car.ActingBlockLength;
            SerialNumber = car.SerialNumber;
        }
    }

    private struct BigEndianHandler : Baseline_bigendian.IBaseline_bigendianMessageHandler
    {
        public int Cars;

        public void OnCar(Baseline_bigendian.CarDecoder car) => Cars++;
    }
}
