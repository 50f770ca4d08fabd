using Microsoft.Extensions.Logging;

namespace WsGateway.Cli.Admin;

/// <summary>The admin app's log messages (event ids 300-399).</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Information, "Admin endpoints on {AdminUrl}: / (dashboard), /client, /metrics, /health, /api/stats")]
    public static partial void AdminListening(ILogger logger, Uri adminUrl);

    [LoggerMessage(301, LogLevel.Information, "Admin endpoints stopped")]
    public static partial void AdminStopped(ILogger logger);
}
