// The examples' entry point: dotnet run --project examples/WsGateway.Examples.Runner -- <example> [options]
//   printing | stats | batch | queue   start a gateway on 127.0.0.1:<port> (default 9001) until Ctrl+C
//   client                             send trades to a running gateway
// Run it without arguments for the options of each.
using System.Runtime.InteropServices;

namespace WsGateway.Examples.Runner;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // WebSocketServer leaves process signals to the application: Ctrl+C (SIGINT) and SIGTERM cancel this token,
        // and each example then stops its server gracefully (close 1001, deliver what was received).
        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return await ExampleRunner.RunAsync(args, Console.Out, stop.Token).ConfigureAwait(false);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
