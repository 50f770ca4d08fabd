using System.Buffers;
using System.Text;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sbe.Schema;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw send --schema</c> as a user runs it, against a real <c>wsgw serve --handler json</c> (or echo):
/// messages of schemas/trading.xml given as JSON lines (a file, or standard input) or as SBE messages back to back
/// come out of the server as the same JSON lines; bad input stops send before it sends anything (exit 2, one line
/// naming the file, the line and the field); messages of another schema are refused by the server with 1007, which
/// send reports (exit 1).</summary>
public sealed class SchemaSendProcessTests
{
    private static string Schema => Path.Combine(WsgwProcess.RepoRoot, "schemas", "trading.xml");

    private static string Sample => Path.Combine(WsgwProcess.RepoRoot, "schemas", "trading.sample.jsonl");

    [Fact]
    public async Task Json_lines_sent_are_the_lines_serve_prints_and_serves_output_sent_again_prints_the_same()
    {
        string[] sample = File.ReadAllLines(Sample);
        (WsgwProcess first, Uri firstUrl) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = first;

        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", firstUrl.ToString(), "--schema", Schema, "--file", Sample);

        Assert.Equal(0, send.ExitCode);
        Assert.StartsWith("wsgw send: sent 4 messages in 4 frames (", send.Stdout[0], StringComparison.Ordinal);
        Assert.Equal("wsgw send: closes: 1x 1000", send.Stdout[^1]);
        Assert.Empty(send.Stderr);
        await first.WaitForStdoutLinesAsync(sample.Length);
        Assert.Equal(sample, first.Stdout);

        // serve's standard output, piped into send (--file -), prints the same lines on another server.
        (WsgwProcess second, Uri secondUrl) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
        using WsgwProcess __ = second;
        byte[] piped = Encoding.UTF8.GetBytes(string.Join('\n', first.Stdout) + "\n");
        using WsgwProcess again = await WsgwProcess.RunInAsync(WsgwProcess.RepoRoot, piped, "send", "--url", secondUrl.ToString(), "--schema", Schema, "--file", "-");

        Assert.Equal(0, again.ExitCode);
        await second.WaitForStdoutLinesAsync(sample.Length);
        Assert.Equal(first.Stdout, second.Stdout);
        await first.StopAsync();
        await second.StopAsync();
        Assert.Contains("wsgw: 1 connections, 4 frames, 4 messages written as JSON, 0 errors", second.Stderr);
    }

    [Fact]
    public async Task Sbe_messages_back_to_back_are_framed_by_the_schema_and_batched()
    {
        string[] sample = File.ReadAllLines(Sample);
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-{Guid.NewGuid():N}.sbe");
        await File.WriteAllBytesAsync(file, Encode(sample));
        try
        {
            (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
            using WsgwProcess _ = serve;

            using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--schema", Schema, "--file", file, "--batch", "3");

            Assert.Equal(0, send.ExitCode);
            Assert.StartsWith("wsgw send: sent 4 messages in 2 frames (", send.Stdout[0], StringComparison.Ordinal);
            await serve.WaitForStdoutLinesAsync(sample.Length);
            await serve.StopAsync();
            Assert.Equal(sample, serve.Stdout);
            Assert.Contains("wsgw: 1 connections, 2 frames, 4 messages written as JSON, 0 errors", serve.Stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_message_larger_than_the_clients_default_send_buffer_is_sent_whole()
    {
        // 5,000 fills: 85,045 bytes of SBE, above the 64 KiB send buffer a client has by default.
        string fills = string.Join(',', Enumerable.Range(0, 5000).Select(i => $"{{\"venue\":\"{(char)('A' + (i % 26))}\",\"quantity\":{i},\"price\":{i}.5}}"));
        string line = $"{{\"$message\":\"Position\",\"$header\":{{\"blockLength\":29,\"templateId\":3,\"schemaId\":2,\"version\":0}},\"account\":1,\"symbol\":\"P\",\"netQuantity\":1,\"averagePrice\":1.5,\"realizedPnl\":0,\"fills\":[{fills}]}}";
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(file, line + "\n");
        try
        {
            (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
            using WsgwProcess _ = serve;

            using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--schema", Schema, "--file", file);

            Assert.Equal(0, send.ExitCode);
            Assert.StartsWith("wsgw send: sent 1 messages in 1 frames (", send.Stdout[0], StringComparison.Ordinal);
            await serve.WaitForStdoutLinesAsync(1);
            await serve.StopAsync();
            Assert.Equal(line, Assert.Single(serve.Stdout));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_line_that_does_not_fit_the_schema_stops_send_before_it_sends_anything()
    {
        string[] sample = File.ReadAllLines(Sample);
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, [sample[0], string.Empty, sample[1].Replace("\"price\":null", "\"price\":\"abc\"", StringComparison.Ordinal), sample[2]]);
        try
        {
            (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
            using WsgwProcess _ = serve;

            using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--schema", Schema, "--file", file);

            Assert.Equal(2, send.ExitCode);
            Assert.Equal($"wsgw send: {file}: line 3: Order.price: expected a number, got \"abc\"", Assert.Single(send.Stderr));
            Assert.Empty(send.Stdout);
            await serve.StopAsync();
            Assert.Contains("wsgw: 0 connections, 0 frames, 0 messages written as JSON, 0 errors", serve.Stderr); // nothing was sent
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_cut_sbe_file_is_refused_naming_the_message_and_its_offset()
    {
        byte[] bytes = Encode(File.ReadAllLines(Sample));
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(file, bytes[..^5]);
        try
        {
            // No server: the file is checked before any connection is opened.
            using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", "ws://127.0.0.1:1/", "--schema", Schema, "--file", file);

            Assert.Equal(2, send.ExitCode);
            Assert.StartsWith($"wsgw send: {file}: message 4 at offset 107: Insufficient data: ", Assert.Single(send.Stderr), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Generated_trades_to_a_json_server_of_another_schema_are_closed_with_1007_and_send_exits_1()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", Schema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = serve;

        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "-n", "3");

        Assert.Equal(1, send.ExitCode);
        Assert.Contains(
            "wsgw send: closes: 1x 1007 from the server \"Unknown schema id 1: expected 2 (package WsGateway.Trading); template id 1, version 0\"; 1 connections did not close with send's 1000",
            send.Stdout);
        await serve.StopAsync();
        Assert.Empty(serve.Stdout);
        Assert.Contains(serve.Stderr, l => l.EndsWith("frame 1, message 1 at offset 0: Unknown schema id 1: expected 2 (package WsGateway.Trading); template id 1, version 0; closing with 1007", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_compares_echoed_schema_frames_byte_for_byte()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--handler", "echo", "--admin", "none", "--stats-interval", "0");
        using WsgwProcess _ = serve;

        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--schema", Schema, "--file", Sample, "--batch", "2", "--verify");

        Assert.Equal(0, send.ExitCode);
        Assert.Contains("wsgw send: received 2 frames from the server; --verify: 2 frames as sent, 0 frames differed, 0 frames did not come back", send.Stdout);
        await serve.StopAsync();
    }

    [Theory]
    [InlineData("--schema needs --file: the messages to send", "--schema", "{schema}")]
    [InlineData("--format json is for --file with --schema", "--format", "json", "--file", "trades.bin")]
    [InlineData("--file orders.jsonl is read as JSON lines, which needs --schema FILE", "--file", "orders.jsonl")]
    [InlineData("--file - is read as JSON lines, which needs --schema FILE", "--file", "-")]
    [InlineData("wsgw send: --format must be json (JSON lines) or sbe (SBE messages back to back), got 'xml' (see wsgw send --help)", "--schema", "{schema}", "--file", "x.sbe", "--format", "xml")]
    [InlineData("file not found: ", "--schema", "{schema}", "--file", "no-such-file.jsonl")]
    [InlineData("SBE schema not found: ", "--schema", "no-such-schema.xml", "--file", "x.jsonl")]
    public async Task Schema_options_that_do_not_fit_are_one_line_and_exit_2(string expected, params string[] args)
    {
        using WsgwProcess send = await WsgwProcess.RunAsync(["send", "--url", "ws://127.0.0.1:1/", .. args.Select(a => a.Replace("{schema}", Schema, StringComparison.Ordinal))]);

        Assert.Equal(2, send.ExitCode);
        Assert.Contains(expected, Assert.Single(send.Stderr), StringComparison.Ordinal);
        Assert.Empty(send.Stdout);
    }

    [Fact]
    public async Task Help_names_the_schema_options()
    {
        using WsgwProcess help = await WsgwProcess.RunAsync("send", "--help");

        string text = string.Join('\n', help.Stdout);
        Assert.Contains("--schema", text, StringComparison.Ordinal);
        Assert.Contains("--format", text, StringComparison.Ordinal);
        Assert.Contains("as wsgw serve --handler json prints them", text, StringComparison.Ordinal);
    }

    /// <summary>The sample's lines encoded back to back, as a capture would hold them.</summary>
    private static byte[] Encode(string[] lines)
    {
        var encoder = new SbeJsonEncoder(SbeSchema.Load(Schema));
        var output = new ArrayBufferWriter<byte>();
        foreach (string line in lines)
        {
            Assert.True(encoder.TryEncode(Encoding.UTF8.GetBytes(line), output, out string? error), error);
        }

        return output.WrittenSpan.ToArray();
    }
}
