using System.CommandLine;
using WsGateway.Cli;
using WsGateway.Cli.Bench;

RootCommand root = new("wsgw: the WsGateway WebSocket gateway for SBE trades")
{
    ServeCommand.Create(),
    SendCommand.Create(),
    DecodeCommand.Create(),
    BenchCommand.Create(),
    BenchServerCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
