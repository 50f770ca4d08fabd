using System.Text.Json;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw decode --schema</c>, run in process: any message of the schema as one JSON line.</summary>
public sealed class DecodeSchemaTests
{
    /// <summary>The Car baseline of tests/data/sbe/README.md (207 bytes), as printed there.</summary>
    private const string CarHex = """
        2d 00 01 00 01 00 00 00 d2 04 00 00 00 00 00 00
        dd 07 01 41 01 00 00 00 02 00 00 00 03 00 00 00
        04 00 00 00 61 62 63 64 65 66 06 d0 07 04 31 32
        33 23 01 4e c8 06 00 03 00 1e 00 9a 99 0f 42 0b
        00 00 00 55 72 62 61 6e 20 43 79 63 6c 65 37 00
        00 00 44 42 0e 00 00 00 43 6f 6d 62 69 6e 65 64
        20 43 79 63 6c 65 4b 00 00 00 20 42 0d 00 00 00
        48 69 67 68 77 61 79 20 43 79 63 6c 65 01 00 02
        00 5f 06 00 03 00 1e 00 00 00 80 40 3c 00 00 00
        f0 40 64 00 33 33 43 41 63 06 00 03 00 1e 00 33
        33 73 40 3c 00 33 33 e3 40 64 00 cd cc 3c 41 05
        00 00 00 48 6f 6e 64 61 09 00 00 00 43 69 76 69
        63 20 56 54 69 06 00 00 00 61 62 63 64 65 66
        """;

    [Fact]
    public void Hex_of_a_car_prints_one_json_line()
    {
        (int code, string output, string error) = Run("--schema", CarSchema, CarHex);

        Assert.Equal(0, code);
        Assert.Equal(string.Empty, error);
        string line = Assert.Single(Lines(output));
        Assert.StartsWith("""{"$message":"Car","$header":{"blockLength":45,"templateId":1,"schemaId":1,"version":0},"serialNumber":1234,"modelYear":2013,""", line, StringComparison.Ordinal);
        Assert.EndsWith(""","manufacturer":"Honda","model":"Civic VTi","activationCode":"abcdef"}""", line, StringComparison.Ordinal);
        using JsonDocument car = JsonDocument.Parse(line);
        Assert.Equal(["sportsPack", "cruiseControl"], car.RootElement.GetProperty("extras").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(12.2f, car.RootElement.GetProperty("performanceFigures")[0].GetProperty("acceleration")[2].GetProperty("seconds").GetSingle());
        Assert.Equal("Highway Cycle", car.RootElement.GetProperty("fuelFigures")[2].GetProperty("usageDescription").GetString());
    }

    [Fact]
    public void A_file_of_messages_back_to_back_prints_one_line_each()
    {
        string file = Path.GetTempFileName();
        try
        {
            Assert.True(Hex.TryParse(CarHex, out byte[] car, out _));
            File.WriteAllBytes(file, [.. car, .. car, .. car]);

            (int code, string output, _) = Run("--schema", CarSchema, "--file", file);

            Assert.Equal(0, code);
            string[] lines = Lines(output);
            Assert.Equal(3, lines.Length);
            Assert.All(lines, l => Assert.Contains("\"vehicleCode\":\"abcdef\"", l, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_first_undecodable_message_stops_with_exit_1_and_the_reason()
    {
        // A good Car, then a header with template 99.
        (int code, string output, string error) = Run("-s", CarSchema, CarHex + " 2d 00 63 00 01 00 00 00");

        Assert.Equal(1, code);
        Assert.Single(Lines(output));
        Assert.Equal("wsgw decode: message 2 at offset 207: Unknown template id 99: the schema defines 1 (Car)", error.Trim());
    }

    [Fact]
    public void A_cut_message_names_what_is_missing()
    {
        (int code, string output, string error) = Run("-s", CarSchema, CarHex[..60]);

        Assert.Equal(1, code);
        Assert.Empty(Lines(output));
        Assert.Equal("wsgw decode: message 1 at offset 0: Insufficient data: message Car needs at least 53 bytes (8-byte header + 45-byte block), got 20", error.Trim());
    }

    [Fact]
    public void A_schema_with_errors_exits_2_with_the_WSGW_diagnostics()
    {
        string schema = Path.Combine(Path.GetTempPath(), $"wsgw-bad-{Guid.NewGuid():N}.xml");
        try
        {
            File.WriteAllText(schema, "<messageSchema package=\"x\" id=\"1\">\n  <types/>\n</messageSchema>\n");

            (int code, string output, string error) = Run("--schema", schema, "00");

            Assert.Equal(2, code);
            Assert.Empty(Lines(output));
            Assert.Contains("error WSGW002", error, StringComparison.Ordinal); // no messageHeader type
            Assert.Contains(schema + ":1:", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(schema);
        }
    }

    [Fact]
    public void A_missing_schema_file_exits_2()
    {
        (int code, _, string error) = Run("--schema", "/nonexistent/schema.xml", "00");

        Assert.Equal(2, code);
        Assert.Equal("wsgw decode: SBE schema not found: /nonexistent/schema.xml", error.Trim());
    }

    private static string CarSchema => RepositorySbe("reallogic", "samples", "example-schema.xml");

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = DecodeCommand.Create(output, error).Parse(args).Invoke();
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A file of the repository's SBE test data, tests/data/sbe (see its README).</summary>
    private static string RepositorySbe(params string[] parts)
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "WsGateway.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"WsGateway.sln not found above {AppContext.BaseDirectory}.");
        }

        return Path.Combine([root.FullName, "tests", "data", "sbe", .. parts]);
    }
}
