using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using WsGateway.Sinks.Nats;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Startup;

/// <summary><see cref="SinkStartupCheckExtensions.AddSinkStartupCheck"/> in a real ASP.NET Core host on Kestrel,
/// with a real NATS sink: the host does not start, and Kestrel does not listen, while the sink cannot be reached.</summary>
public sealed class SinkStartupCheckHostTests
{
    [Fact]
    public async Task A_host_whose_sink_cannot_be_reached_fails_to_start_and_kestrel_never_listens()
    {
        int port = FreePorts.Take(1)[0];
        await using WebApplication app = Build(port, "nats://127.0.0.1:1", "HOSTED");

        SinkNotReadyException e = await Assert.ThrowsAsync<SinkNotReadyException>(() => app.StartAsync());

        Assert.Equal("can not connect uris: nats://127.0.0.1:1", e.Reason);
        Assert.False(LoopbackPorts.Accepts(port), "Kestrel listened although the sink was not ready");
        await app.Services.GetRequiredService<SinkPipeline>().DisposeAsync();
    }

    [Fact]
    public async Task A_host_whose_sink_is_ready_starts_with_the_stream_created()
    {
        using var nats = NatsServerProcess.Start();
        int port = FreePorts.Take(1)[0];
        await using WebApplication app = Build(port, nats.Url, "HOSTED");

        await app.StartAsync();

        Assert.True(LoopbackPorts.Accepts(port));
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
        INatsJSStream stream = await new NatsJSContext(connection).GetStreamAsync("HOSTED");
        Assert.Equal("HOSTED", stream.Info.Config.Name);
        await app.StopAsync();
        await app.Services.GetRequiredService<SinkPipeline>().DisposeAsync();
    }

    private static WebApplication Build(int port, string natsUrl, string stream)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var pipeline = new SinkPipeline(new NatsJetStreamSink(new NatsSinkOptions { Url = natsUrl, Stream = stream, Subject = stream.ToLowerInvariant() }));
        builder.Services.AddSingleton(pipeline);
        builder.Services.AddSinkStartupCheck(TimeSpan.FromSeconds(5));
        builder.Services.AddTradeGateway((_, _) => pipeline.CreateHandler());
        WebApplication app = builder.Build();
        app.UseWebSockets();
        app.MapTradeGateway("/trades");
        return app;
    }
}
