namespace WsGateway.Cli.Tests.Admin;

/// <summary>
/// Tests that read the exported <c>WsGateway</c> meter run alone: OpenTelemetry subscribes to meters by name, so a
/// gateway of another test running at the same time in this process would add to the numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AdminCollection
{
    public const string Name = "Admin endpoints (exported meter)";
}
