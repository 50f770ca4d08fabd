using System.Text.Json;

using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>The Car vectors of tests/data/sbe/vectors/car decoded to the values listed in tests/data/sbe/README.md.</summary>
public sealed class CarDecodeTests
{
    /// <summary>The baseline Car as the decoder must print it, written by hand from tests/data/sbe/README.md.</summary>
    private static readonly string s_baselineJson = (
        "{'$message':'Car','$header':{'blockLength':45,'templateId':1,'schemaId':1,'version':0},"
        + "'serialNumber':1234,'modelYear':2013,'available':'T','code':'A','someNumbers':[1,2,3,4],'vehicleCode':'abcdef',"
        + "'extras':['sportsPack','cruiseControl'],'discountedModel':'C',"
        + "'engine':{'capacity':2000,'numCylinders':4,'maxRpm':9000,'manufacturerCode':'123','fuel':'Petrol','efficiency':35,"
        + "'boosterEnabled':'T','booster':{'BoostType':'NITROUS','horsePower':200}},"
        + "'fuelFigures':[{'speed':30,'mpg':35.9,'usageDescription':'Urban Cycle'},{'speed':55,'mpg':49,'usageDescription':'Combined Cycle'},"
        + "{'speed':75,'mpg':40,'usageDescription':'Highway Cycle'}],"
        + "'performanceFigures':[{'octaneRating':95,'acceleration':[{'mph':30,'seconds':4},{'mph':60,'seconds':7.5},{'mph':100,'seconds':12.2}]},"
        + "{'octaneRating':99,'acceleration':[{'mph':30,'seconds':3.8},{'mph':60,'seconds':7.1},{'mph':100,'seconds':11.8}]}],"
        + "'manufacturer':'Honda','model':'Civic VTi','activationCode':'abcdef'}").Replace('\'', '"');

    private static readonly Lazy<SbeJsonDecoder> s_samples = new(() => new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "samples", "example-schema.xml"))));

    [Fact]
    public void Baseline_schema_loads_through_its_xinclude()
    {
        SbeSchema schema = s_samples.Value.Schema;

        Assert.Equal(1, schema.Id);
        Assert.Equal(0, schema.Version);
        Assert.False(schema.IsBigEndian);
        Assert.Equal(8, schema.HeaderSize);
        SbeMessageInfo car = Assert.Single(schema.Messages);
        Assert.Equal(new SbeMessageInfo("Car", 1, 45, 0), car);
    }

    [Fact]
    public void Baseline_207_bytes_decode_to_the_published_json()
    {
        byte[] bytes = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        Assert.Equal(207, bytes.Length);

        Assert.True(s_samples.Value.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);

        Assert.Equal(207, consumed);
        Assert.Equal(s_baselineJson, json);
    }

    [Fact]
    public void Baseline_fields_one_by_one()
    {
        JsonElement car = Decode(s_samples.Value, SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe"), 207);
        AssertCar(car, [1, 2, 3, 4], blockLength: 45);
    }

    [Fact]
    public void Big_endian_211_bytes_decode_with_the_big_endian_schema()
    {
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "test-resources", "example-bigendian-test-schema.xml")));
        Assert.True(decoder.Schema.IsBigEndian);

        JsonElement car = Decode(decoder, SbeData.Bytes("vectors", "car", "car_bigendian_211.bin"), 211);

        AssertCar(car, [0, 1, 2, 3, 4], blockLength: 49);
    }

    [Fact]
    public void Little_endian_twin_211_bytes_decode_with_the_test_schema()
    {
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "test-resources", "example-schema.xml")));

        JsonElement car = Decode(decoder, SbeData.Bytes("vectors", "car", "car_testschema_le_211.bin"), 211);

        AssertCar(car, [0, 1, 2, 3, 4], blockLength: 49);
    }

    [Fact]
    public void Version_0_message_read_with_the_version_1_schema_reports_the_new_fields_as_null()
    {
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "samples", "example-extension-schema.xml")));
        Assert.Equal(1, decoder.Schema.Version);

        JsonElement car = Decode(decoder, SbeData.Bytes("vectors", "car", "car_extension_le_207.sbe"), 207);

        AssertCar(car, [0, 1, 2, 3], blockLength: 45);
        Assert.Equal(JsonValueKind.Null, car.GetProperty("uuid").ValueKind);
        Assert.Equal(JsonValueKind.Null, car.GetProperty("cupHolderCount").ValueKind);
    }

    [Fact]
    public void Messages_back_to_back_are_separated_by_what_each_consumed()
    {
        byte[] one = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        byte[] two = [.. one, .. one];

        Assert.True(s_samples.Value.TryDecodeToJson(two, out string first, out int consumed, out _));
        Assert.Equal(207, consumed);
        Assert.True(s_samples.Value.TryDecodeToJson(two.AsSpan(consumed), out string second, out int consumedAgain, out _));
        Assert.Equal(207, consumedAgain);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Writes_into_a_callers_writer_as_one_value()
    {
        byte[] bytes = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            Assert.True(s_samples.Value.TryDecode(bytes, writer, out _, out _));
            Assert.False(s_samples.Value.TryDecode(bytes.AsSpan(0, 20), writer, out _, out _)); // writes nothing
            Assert.True(s_samples.Value.TryDecode(bytes, writer, out _, out _));
            writer.WriteEndArray();
        }

        using JsonDocument document = JsonDocument.Parse(stream.ToArray());
        Assert.Equal(2, document.RootElement.GetArrayLength());
        Assert.Equal(1234UL, document.RootElement[1].GetProperty("serialNumber").GetUInt64());
    }

    internal static JsonElement Decode(SbeJsonDecoder decoder, byte[] bytes, int expectedLength)
    {
        Assert.True(decoder.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);
        Assert.Equal(expectedLength, consumed);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static void AssertCar(JsonElement car, int[] someNumbers, int blockLength)
    {
        Assert.Equal("Car", car.GetProperty("$message").GetString());
        JsonElement header = car.GetProperty("$header");
        Assert.Equal(blockLength, header.GetProperty("blockLength").GetInt32());
        Assert.Equal(1, header.GetProperty("templateId").GetInt32());
        Assert.Equal(1, header.GetProperty("schemaId").GetInt32());
        Assert.Equal(0, header.GetProperty("version").GetInt32());

        Assert.Equal(1234UL, car.GetProperty("serialNumber").GetUInt64());
        Assert.Equal(2013, car.GetProperty("modelYear").GetInt32());
        Assert.Equal("T", car.GetProperty("available").GetString());
        Assert.Equal("A", car.GetProperty("code").GetString());
        Assert.Equal(someNumbers, car.GetProperty("someNumbers").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("abcdef", car.GetProperty("vehicleCode").GetString());
        Assert.Equal(["sportsPack", "cruiseControl"], car.GetProperty("extras").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("C", car.GetProperty("discountedModel").GetString());

        JsonElement engine = car.GetProperty("engine");
        Assert.Equal(2000, engine.GetProperty("capacity").GetInt32());
        Assert.Equal(4, engine.GetProperty("numCylinders").GetInt32());
        Assert.Equal(9000, engine.GetProperty("maxRpm").GetInt32());
        Assert.Equal("123", engine.GetProperty("manufacturerCode").GetString());
        Assert.Equal("Petrol", engine.GetProperty("fuel").GetString());
        Assert.Equal(35, engine.GetProperty("efficiency").GetInt32());
        Assert.Equal("T", engine.GetProperty("boosterEnabled").GetString());
        Assert.Equal("NITROUS", engine.GetProperty("booster").GetProperty("BoostType").GetString());
        Assert.Equal(200, engine.GetProperty("booster").GetProperty("horsePower").GetInt32());

        JsonElement[] fuel = [.. car.GetProperty("fuelFigures").EnumerateArray()];
        Assert.Equal(3, fuel.Length);
        Assert.Equal((30, 35.9f, "Urban Cycle"), Fuel(fuel[0]));
        Assert.Equal((55, 49.0f, "Combined Cycle"), Fuel(fuel[1]));
        Assert.Equal((75, 40.0f, "Highway Cycle"), Fuel(fuel[2]));

        JsonElement[] performance = [.. car.GetProperty("performanceFigures").EnumerateArray()];
        Assert.Equal(2, performance.Length);
        Assert.Equal(95, performance[0].GetProperty("octaneRating").GetInt32());
        Assert.Equal([(30, 4.0f), (60, 7.5f), (100, 12.2f)], Accelerations(performance[0]));
        Assert.Equal(99, performance[1].GetProperty("octaneRating").GetInt32());
        Assert.Equal([(30, 3.8f), (60, 7.1f), (100, 11.8f)], Accelerations(performance[1]));

        Assert.Equal("Honda", car.GetProperty("manufacturer").GetString());
        Assert.Equal("Civic VTi", car.GetProperty("model").GetString());
        Assert.Equal("abcdef", car.GetProperty("activationCode").GetString());
    }

    private static (int, float, string?) Fuel(JsonElement entry)
        => (entry.GetProperty("speed").GetInt32(), entry.GetProperty("mpg").GetSingle(), entry.GetProperty("usageDescription").GetString());

    private static (int, float)[] Accelerations(JsonElement entry)
        => [.. entry.GetProperty("acceleration").EnumerateArray().Select(a => (a.GetProperty("mph").GetInt32(), a.GetProperty("seconds").GetSingle()))];
}
