using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WsGateway.Sinks;

/// <summary>
/// The health of a <see cref="SinkPipeline"/>: unhealthy while the sink's start-up check has not passed (a pipeline
/// started degraded, <see cref="SinkPipeline.StartCheckingSink"/>); healthy while the sink stores what it is given; degraded while
/// publishing fails (the pipeline retries) or while the oldest unacknowledged trade is older than
/// <see cref="SinkPipelineOptions.LagDegraded"/>; unhealthy
/// once publishing has failed, or the sink has lagged, for <see cref="SinkPipelineOptions.Unhealthy"/>.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddHealthChecks().AddCheck("sink", new SinkHealthCheck(pipeline));
/// </code>
/// </example>
public sealed class SinkHealthCheck : IHealthCheck
{
    private readonly SinkPipeline _pipeline;

    /// <summary>Creates the check.</summary>
    /// <param name="pipeline">The pipeline to watch.</param>
    public SinkHealthCheck(SinkPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _pipeline = pipeline;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(Evaluate(_pipeline.GetStatus(), _pipeline.Options));

    /// <summary>The health a status means under the given thresholds (what <see cref="CheckHealthAsync"/> answers).</summary>
    /// <param name="status">A snapshot from <see cref="SinkPipeline.GetStatus"/>.</param>
    /// <param name="options">The pipeline's options, for the thresholds.</param>
    /// <returns>Healthy, Degraded or Unhealthy, with a description naming the sink and the data.</returns>
    public static HealthCheckResult Evaluate(SinkStatus status, SinkPipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var data = new Dictionary<string, object>
        {
            ["sink"] = status.Sink,
            ["stored"] = status.TradesStored,
            ["inFlightTrades"] = status.InFlightTrades,
            ["inFlightBytes"] = status.InFlightBytes,
            ["pausedConnections"] = status.PausedConnections,
            ["retries"] = status.Retries,
            ["lagMs"] = (long)status.Lag.TotalMilliseconds,
        };
        if (status.NotReadyReason is { } notReady)
        {
            data["notReady"] = notReady;
            return HealthCheckResult.Unhealthy(Describe($"{status.Sink}: not ready ({status.InFlightTrades} trades waiting), retrying the start-up check: {notReady}"), data: data);
        }

        if (status.FailingFor > TimeSpan.Zero)
        {
            string failing = Describe($"{status.Sink}: publishing fails for {status.FailingFor.TotalSeconds:0.0} s, retrying ({status.Retries} retries so far, {status.InFlightTrades} trades waiting): {status.LastError}");
            return status.FailingFor >= options.Unhealthy
                ? HealthCheckResult.Unhealthy(failing, data: data)
                : HealthCheckResult.Degraded(failing, data: data);
        }

        if (status.Lag >= options.LagDegraded)
        {
            string lagging = Describe($"{status.Sink}: lagging, the oldest unacknowledged trade is {status.Lag.TotalSeconds:0.0} s old ({status.InFlightTrades} in flight)");
            return status.Lag >= options.Unhealthy
                ? HealthCheckResult.Unhealthy(lagging, data: data)
                : HealthCheckResult.Degraded(lagging, data: data);
        }

        // Connections paused at the in-flight bound are backpressure doing its work under load (the sink is the
        // bottleneck), not a fault: said in the description and the data, still healthy while the sink keeps up.
        string paused = status.PausedConnections > 0 ? Describe($", at the in-flight bound: {status.PausedConnections} connections paused") : string.Empty;
        return HealthCheckResult.Healthy(Describe($"{status.Sink}: {status.TradesStored} trades stored, {status.InFlightTrades} in flight{paused}"), data);
    }

    private static string Describe(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
