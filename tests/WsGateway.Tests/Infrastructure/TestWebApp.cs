using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsGateway.Tests.Infrastructure;

/// <summary>A real ASP.NET Core application on Kestrel (loopback, a free port) with the gateway mapped at
/// <c>/trades</c>: the one setup every ASP.NET Core hosting test shares.</summary>
internal static class TestWebApp
{
    /// <summary>Starts the application and returns it with the gateway's <c>ws://</c> URL.</summary>
    /// <param name="addServices">Registers the gateway (and anything else, such as authentication).</param>
    /// <param name="map">Adds middleware and maps the gateway; <c>app.MapTradeGateway("/trades")</c> when null.</param>
    public static async Task<(WebApplication App, Uri Url)> StartAsync(Action<IServiceCollection> addServices, Action<WebApplication>? map = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        addServices(builder.Services);
        WebApplication app = builder.Build();
        if (map is null)
        {
            app.MapTradeGateway("/trades");
        }
        else
        {
            map(app);
        }

        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/trades"));
    }

    /// <summary>A handler factory that creates <typeparamref name="THandler"/>s and keeps them in <paramref name="created"/>.</summary>
    public static Func<IServiceProvider, IGatewayConnection, ITradeMessageHandler> Collecting<THandler>(ConcurrentQueue<THandler> created)
        where THandler : ITradeMessageHandler, new()
        => (_, _) =>
        {
            var handler = new THandler();
            created.Enqueue(handler);
            return handler;
        };
}
