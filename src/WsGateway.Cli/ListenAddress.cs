using System.CommandLine.Parsing;
using System.Net;

namespace WsGateway.Cli;

/// <summary>The <c>host:port</c> addresses <c>wsgw serve</c> takes (<c>--listen</c>, <c>--admin</c>), checked while
/// the command line is parsed so that a bad one is a usage error naming the value, not a failure at start.</summary>
internal static class ListenAddress
{
    /// <summary>Parses <c>127.0.0.1:9001</c>, <c>[::1]:9001</c>, <c>localhost:9001</c> or <c>*:9001</c> (port 0 picks
    /// one) with the gateway's own rules.</summary>
    /// <param name="value">The address.</param>
    /// <param name="what">What the address is for, in the error (<c>listen address</c>).</param>
    /// <param name="examplePort">The port the error's examples show.</param>
    /// <exception cref="FormatException">Not an address; the message names the value and the expected form.</exception>
    public static (IPAddress? Address, int Port, bool Localhost) Parse(string value, string what, int examplePort)
    {
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            return WebSocketServer.ParseListen(value, what, examplePort);
        }
        catch (ArgumentException ex)
        {
            // The message without ArgumentException's " (Parameter 'listen')" suffix, which means nothing to a user.
            string message = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : ex.Message;
            throw new FormatException(message, ex);
        }
    }

    /// <summary>A validator for an option holding a gateway address: adds the parse error to the option.</summary>
    public static Action<OptionResult> Validator(string what, int examplePort) => result =>
    {
        try
        {
            _ = Parse(result.GetValueOrDefault<string>() ?? string.Empty, what, examplePort);
        }
        catch (FormatException e)
        {
            result.AddError(e.Message);
        }
    };
}
