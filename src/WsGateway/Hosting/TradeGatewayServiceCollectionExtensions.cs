using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WsGateway.Hosting;

namespace WsGateway;

/// <summary>Registers the trade gateway in an ASP.NET Core application.</summary>
public static class TradeGatewayServiceCollectionExtensions
{
    /// <summary>Adds the trade gateway with a handler of type <typeparamref name="THandler"/> per connection,
    /// created through dependency injection (its constructor may take services).</summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets limits and timeouts; validated when the host starts.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddTradeGateway<THandler>(this IServiceCollection services, Action<TradeGatewayOptions>? configure = null)
        where THandler : class, ITradeMessageHandler
    {
        ObjectFactory<THandler> factory = ActivatorUtilities.CreateFactory<THandler>([]);
        return services.AddTradeGateway((sp, _) => factory(sp, null), configure);
    }

    /// <summary>Adds the trade gateway with a handler made by <paramref name="handlerFactory"/> for each connection.</summary>
    /// <param name="services">The services.</param>
    /// <param name="handlerFactory">Creates the handler of a new connection.</param>
    /// <param name="configure">Sets limits and timeouts; validated when the host starts.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddTradeGateway(
        this IServiceCollection services,
        Func<IServiceProvider, IGatewayConnection, ITradeMessageHandler> handlerFactory,
        Action<TradeGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        OptionsBuilder<TradeGatewayOptions> options = services.AddOptions<TradeGatewayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TradeGatewayOptions>, TradeGatewayOptionsValidator>());
        services.AddSingleton(new TradeGatewayHandlerFactory(handlerFactory));
        services.TryAddSingleton<TradeGatewayService>();
        services.AddHostedService(sp => sp.GetRequiredService<TradeGatewayService>());
        return services;
    }
}

/// <summary>Validates the options with the reason <see cref="TradeGatewayOptions.Validate"/> gives.</summary>
internal sealed class TradeGatewayOptionsValidator : IValidateOptions<TradeGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, TradeGatewayOptions options)
        => options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
