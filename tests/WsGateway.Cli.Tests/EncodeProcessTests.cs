using System.Text;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw encode</c>, the inverse of <c>wsgw decode --schema</c>, as a user runs it: JSON lines to SBE (hex
/// lines, or a binary file that <c>decode</c> and <c>send --schema</c> read), and the first line that does not fit
/// the schema stopping it with nothing written.</summary>
public sealed class EncodeProcessTests
{
    private static string Schema => Path.Combine(WsgwProcess.RepoRoot, "schemas", "trading.xml");

    private static string Sample => Path.Combine(WsgwProcess.RepoRoot, "schemas", "trading.sample.jsonl");

    [Fact]
    public async Task Encoded_to_a_file_and_decoded_again_the_sample_is_its_own_lines()
    {
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-{Guid.NewGuid():N}.sbe");
        try
        {
            using WsgwProcess encode = await WsgwProcess.RunAsync("encode", "--schema", Schema, "--file", Sample, "--output", file);
            Assert.Equal(0, encode.ExitCode);
            Assert.Equal($"wsgw encode: 4 messages, 182 bytes, written to {file}", Assert.Single(encode.Stderr)); // 39 + 39 + 29 + 75
            Assert.Empty(encode.Stdout);

            using WsgwProcess decode = await WsgwProcess.RunAsync("decode", "--schema", Schema, "--file", file);
            Assert.Equal(0, decode.ExitCode);
            Assert.Equal(File.ReadAllLines(Sample), decode.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Hex_lines_on_standard_output_decode_one_by_one()
    {
        string[] sample = File.ReadAllLines(Sample);
        using WsgwProcess encode = await WsgwProcess.RunInAsync(WsgwProcess.RepoRoot, Encoding.UTF8.GetBytes(string.Join('\n', sample)), "encode", "--schema", Schema);

        Assert.Equal(0, encode.ExitCode);
        Assert.Equal(sample.Length, encode.Stdout.Count);
        Assert.Equal("150001000200000001000000000000004100000000005059402c010000", encode.Stdout[2]); // the Trade: schema id 2
        using WsgwProcess decode = await WsgwProcess.RunAsync("decode", "--schema", Schema, encode.Stdout[3]);
        Assert.Equal(sample[3], Assert.Single(decode.Stdout));
    }

    [Fact]
    public async Task A_line_that_does_not_fit_is_one_line_exit_2_and_nothing_is_written()
    {
        string[] sample = File.ReadAllLines(Sample);
        byte[] input = Encoding.UTF8.GetBytes($"{sample[0]}\n{{\"$message\":\"Order\"}}\n");

        using WsgwProcess encode = await WsgwProcess.RunInAsync(WsgwProcess.RepoRoot, input, "encode", "--schema", Schema);

        Assert.Equal(2, encode.ExitCode);
        Assert.Equal("wsgw encode: standard input: line 2: Order.orderId: missing; expected a number (uint64)", Assert.Single(encode.Stderr));
        Assert.Empty(encode.Stdout);
    }
}
