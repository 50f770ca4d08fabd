using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WsGateway.Connections;
using WsGateway.Diagnostics;

namespace WsGateway.Hosting;

/// <summary>
/// The gateway inside an ASP.NET Core application: owns the connection manager shared by every
/// <c>MapTradeGateway</c> endpoint, and shuts the connections down gracefully (1001, drain) when the host stops.
/// </summary>
internal sealed class TradeGatewayService : IHostedLifecycleService, IDisposable
{
    public TradeGatewayService(
        IOptions<TradeGatewayOptions> options,
        IServiceProvider services,
        TradeGatewayHandlerFactory factory,
        ILoggerFactory loggerFactory,
        IMeterFactory? meterFactory = null,
        TimeProvider? timeProvider = null)
    {
        Metrics = new GatewayMetrics(meterFactory);
        Manager = new ConnectionManager(options.Value, connection => factory.Create(services, connection), timeProvider ?? TimeProvider.System, loggerFactory, Metrics);
    }

    public GatewayMetrics Metrics { get; }

    public ConnectionManager Manager { get; }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // StoppingAsync runs before any hosted service stops, Kestrel's included: the connections are closed with 1001
    // and drained while Kestrel still serves them (it would otherwise wait for them, then abort them).
    public Task StoppingAsync(CancellationToken cancellationToken) => Manager.ShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        Manager.Dispose();
        Metrics.Dispose();
    }
}

/// <summary>How the application's handlers are created, one per connection.</summary>
internal sealed class TradeGatewayHandlerFactory(Func<IServiceProvider, IGatewayConnection, ITradeMessageHandler> create)
{
    public ITradeMessageHandler Create(IServiceProvider services, IGatewayConnection connection) => create(services, connection);
}
