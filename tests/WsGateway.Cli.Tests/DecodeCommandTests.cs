using Spectre.Console;
using Spectre.Console.Testing;

namespace WsGateway.Cli.Tests;

public sealed class DecodeCommandTests
{
    // Trade 12345, 'B', 100.5, 1000, written out field by field.
    private const string GoldenTrade = "15000100010000003930000000000000420000000000205940e8030000";

    [Fact]
    public void A_trade_in_hex_is_decoded_into_a_row()
    {
        Assert.True(Hex.TryParse(GoldenTrade, out byte[] bytes, out _));
        var console = new TestConsole().Width(200);

        int code = DecodeCommand.Render(bytes, console);

        Assert.Equal(0, code);
        string row = console.Lines.Single(l => l.Contains("12345", StringComparison.Ordinal));
        Assert.Matches(@"1\s+│\s+0\s+│\s+12345\s+│\s+B\s+│\s+100\.5\s+│\s+1000\s+│", row);
        Assert.Contains("1 trades, 0 errors, 29 bytes", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_template_is_skipped_by_its_block_length_and_a_cut_message_ends_the_table()
    {
        // A 21-byte block with template 7, then a good trade, then 5 stray bytes.
        string unknown = "15000700010000" + "00" + new string('0', 42);
        Assert.True(Hex.TryParse(unknown + GoldenTrade + "0102030405", out byte[] bytes, out _));
        var console = new TestConsole().Width(200);

        int code = DecodeCommand.Render(bytes, console);

        Assert.Equal(1, code);
        Assert.Contains("Unknown template id: expected 1, got 7", console.Output, StringComparison.Ordinal);
        Assert.Contains("12345", console.Output, StringComparison.Ordinal);
        Assert.Contains("Insufficient data: expected 29 bytes, got 5", console.Output, StringComparison.Ordinal);
        Assert.Contains("1 trades, 2 errors, 63 bytes", console.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0x15, 0x00", new byte[] { 0x15, 0x00 })]
    [InlineData("15 00 01", new byte[] { 0x15, 0x00, 0x01 })]
    [InlineData("FFfe", new byte[] { 0xff, 0xfe })]
    public void Hex_accepts_spaces_commas_and_prefixes(string text, byte[] expected)
    {
        Assert.True(Hex.TryParse(text, out byte[] bytes, out string? error));
        Assert.Null(error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("15 0g", "Invalid hex at position 4: expected 0-9 or a-f, got 'g'")]
    [InlineData("150", "Odd number of hex digits: expected pairs, got 3 digits")]
    public void Bad_hex_is_refused_with_the_reason(string text, string reason)
    {
        Assert.False(Hex.TryParse(text, out _, out string? error));
        Assert.Equal(reason, error);
    }
}
