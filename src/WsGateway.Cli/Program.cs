using System.CommandLine;
using WsGateway.Cli;
using WsGateway.Cli.Sinks;

RootCommand root = new("wsgw: the WsGateway WebSocket gateway for SBE trades")
{
    ServeCommand.Create(),
    SendCommand.Create(),
    DecodeCommand.Create(),
    EncodeCommand.Create(),
    SinkCommand.Create(),
};
return await CommandLine.InvokeAsync(root, args).ConfigureAwait(false);
