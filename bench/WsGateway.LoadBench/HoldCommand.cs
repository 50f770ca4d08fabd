using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace WsGateway.LoadBench;

/// <summary>
/// <c>WsGateway.LoadBench hold</c> (hidden): a client process that opens idle WebSocket connections to one or more
/// gateways (an equal share to each) and keeps them open; the scale test of a deployment runs several, each under
/// the descriptor limit of one process. Prints <c>HELD &lt;connections&gt; &lt;milliseconds&gt;</c> once every
/// handshake is done, then holds them until standard input ends (or says <c>quit</c>), and drops them.
/// </summary>
internal static class HoldCommand
{
    public const string Name = "hold";

    public static Command Create()
    {
        Option<string[]> endpoints = new("--endpoint")
        {
            Description = "A gateway's address, 127.0.0.1:9001; repeatable: the connections are shared out equally",
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        Option<int> connections = new("--connections") { Description = "Connections to open in all", DefaultValueFactory = _ => 10_000 };
        var command = new Command(Name, "Open idle connections to gateways and hold them until standard input ends") { endpoints, connections };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            IPEndPoint[] targets = [.. result.GetValue(endpoints)!.Select(e => IPEndPoint.Parse(e))];
            int count = result.GetValue(connections);
            var clock = Stopwatch.StartNew();
            var held = new List<LoadConnection>(count);
            try
            {
                LoadConnection[][] shares = await Task.WhenAll(targets.Select((target, i) =>
                    Scenarios.ConnectAsync(target, (count / targets.Length) + (i < count % targets.Length ? 1 : 0), cancellationToken))).ConfigureAwait(false);
                foreach (LoadConnection[] share in shares)
                {
                    held.AddRange(share);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HELD {held.Count} {clock.ElapsedMilliseconds}"));
                string? line;
                while ((line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null && line != "quit")
                {
                }

                return 0;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                await Console.Error.WriteLineAsync($"FAILED after {clock.ElapsedMilliseconds} ms: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            finally
            {
                foreach (LoadConnection connection in held)
                {
                    connection.Abort();
                }
            }
        });
        return command;
    }
}
