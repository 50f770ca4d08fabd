using System.Net;
using WsGateway.Cli.Admin;

namespace WsGateway.Cli.Tests.Admin;

public sealed class AdminAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:9002", "127.0.0.1", 9002, false)]
    [InlineData("[::1]:0", "::1", 0, false)]
    [InlineData("*:9002", "0.0.0.0", 9002, false)]
    [InlineData("localhost:9002", null, 9002, true)]
    public void Addresses_parse(string text, string? address, int port, bool localhost)
    {
        var parsed = AdminAddress.Parse(text);
        Assert.NotNull(parsed);
        Assert.Equal(address is null ? null : IPAddress.Parse(address), parsed.Value.Address);
        Assert.Equal((port, localhost), (parsed.Value.Port, parsed.Value.Localhost));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("NONE")]
    public void None_turns_the_admin_endpoints_off(string text) => Assert.Null(AdminAddress.Parse(text));

    [Theory]
    [InlineData("9002")]
    [InlineData("example.com:9002")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("127.0.0.1:")]
    public void Bad_addresses_are_refused(string text) => Assert.Throws<FormatException>(() => AdminAddress.Parse(text));

    [Fact]
    public void Serve_refuses_a_bad_admin_address_before_starting()
    {
        System.CommandLine.ParseResult result = ServeCommand.Create().Parse(["--admin", "example.com:1"]);
        Assert.Contains(result.Errors, e => e.Message.Contains("not an IP address", StringComparison.Ordinal));
        Assert.Empty(ServeCommand.Create().Parse(["--admin", "none"]).Errors);
    }
}
