using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WsGateway.Sinks;

/// <summary>The sink's start-up check in an ASP.NET Core (or any generic) host.</summary>
public static class SinkStartupCheckExtensions
{
    /// <summary>
    /// Runs <see cref="SinkPipeline.CheckSinkAsync"/> on the <see cref="SinkPipeline"/> registered in
    /// <paramref name="services"/> when the host starts, before the web server listens (a hosted service registered by
    /// the application starts before ASP.NET Core's own server): a sink that cannot be reached, authenticated or whose
    /// stream, table or topic cannot be checked or created makes <c>app.StartAsync()</c>/<c>RunAsync()</c> throw
    /// <see cref="SinkNotReadyException"/> (its <see cref="SinkNotReadyException.Reason"/> says why), and nothing
    /// listens: what <c>wsgw serve --sink</c> does.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton(pipeline);                  // or a factory building it from configuration
    /// builder.Services.AddSinkStartupCheck(TimeSpan.FromSeconds(10));
    /// builder.Services.AddTradeGateway((_, _) => pipeline.CreateHandler());
    /// </code>
    /// </example>
    /// <param name="services">The services, with a <see cref="SinkPipeline"/> singleton.</param>
    /// <param name="timeout">The check's deadline; 10 s when null.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddSinkStartupCheck(this IServiceCollection services, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        TimeSpan deadline = timeout ?? TimeSpan.FromSeconds(10);
        if (deadline <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The start-up check's deadline must be positive.");
        }

        services.AddHostedService(provider => new SinkStartupCheck(provider.GetRequiredService<SinkPipeline>(), deadline));
        return services;
    }

    private sealed class SinkStartupCheck(SinkPipeline pipeline, TimeSpan timeout) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => pipeline.CheckSinkAsync(timeout, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
