using System.CommandLine;
using WsGateway.Cli;

RootCommand root = new("wsgw: the WsGateway WebSocket gateway for SBE trades")
{
    ServeCommand.Create(),
    DecodeCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
