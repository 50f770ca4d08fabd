namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw serve</c>'s command line, parsed in process: what is refused before anything starts.</summary>
public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("--listen", "127.0.0.1", "Invalid listen address '127.0.0.1': expected host:port")]
    [InlineData("--listen", "[::1]9001", "Invalid listen address '[::1]9001'")]
    [InlineData("--admin", "9002", "Invalid admin address '9002': expected host:port")]
    public void Bad_addresses_are_parse_errors_naming_the_value(string option, string value, string expected)
    {
        System.CommandLine.ParseResult result = ServeCommand.Create().Parse([option, value]);

        Assert.Contains(result.Errors, e => e.Message.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--sink-timeout", "0", "--sink-timeout must be between 0 and 3600 seconds (not 0), got 0")]
    [InlineData("--sink-timeout", "3601", "--sink-timeout must be between 0 and 3600 seconds (not 0), got 3601")]
    [InlineData("--shutdown-timeout", "-1", "--shutdown-timeout must be between 0 and 3600 seconds, got -1")]
    [InlineData("--shutdown-timeout", "3601", "--shutdown-timeout must be between 0 and 3600 seconds, got 3601")]
    public void Deadlines_out_of_range_are_parse_errors_naming_the_option(string option, string value, string expected)
    {
        Assert.Contains(ServeCommand.Create().Parse([option, value]).Errors, e => e.Message == expected);
        Assert.Empty(ServeCommand.Create().Parse([option, "2.5"]).Errors);
        Assert.Empty(ServeCommand.Create().Parse(["--shutdown-timeout", "0"]).Errors); // stop at once: allowed
    }

    [Fact]
    public void Schema_and_the_json_handler_go_together()
    {
        Assert.Contains(ServeCommand.Create().Parse(["--handler", "json"]).Errors, e => e.Message.StartsWith("--handler json needs --schema", StringComparison.Ordinal));
        Assert.Contains(ServeCommand.Create().Parse(["--schema", "x.xml"]).Errors, e => e.Message == "--schema is for --handler json (decode every message as JSON), got --handler stats");
        Assert.Empty(ServeCommand.Create().Parse(["--schema", "x.xml", "--handler", "json"]).Errors);
        Assert.Empty(ServeCommand.Create().Parse([]).Errors);
    }

    [Fact]
    public async Task Usage_errors_are_one_line_each_and_exit_2_without_running()
    {
        var error = new StringWriter();
        bool ran = false;
        var root = new System.CommandLine.RootCommand { ServeCommand.Create() };
        root.Subcommands[0].SetAction(_ => ran = true);

        int code = await CommandLine.InvokeAsync(root, ["serve", "--listen", "nonsense"], error);

        Assert.Equal(2, code);
        Assert.False(ran);
        Assert.Equal(
            "wsgw serve: Invalid listen address 'nonsense': expected host:port such as 127.0.0.1:9001, [::1]:9001, localhost:9001 or *:9001 (see wsgw serve --help)",
            Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r'));
    }
}
