using System.Collections.Concurrent;
using System.Net.WebSockets;
using WsGateway.Tests.Hosting;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Fuzz;

/// <summary>Isolation over real sockets: connections that send garbage after their handshake are closed one by one
/// while a healthy neighbour's messages all arrive, in order.</summary>
public sealed class GarbageNeighbourTests
{
    [Fact]
    public async Task Garbage_on_some_connections_never_costs_a_healthy_neighbour_a_message()
    {
        var handlers = new ConcurrentDictionary<string, RecordingHandler>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", c => handlers.GetOrAdd(c.Path, _ => new RecordingHandler()), new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero }).Start();
        using ClientWebSocket healthy = await SocketTestClient.ConnectAsync(new Uri(server.Url, "/healthy"));

        const int Frames = 400;
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < Frames; i++)
            {
                await healthy.SendBinaryAsync(ClientFrames.Trades((ulong)(i * 5), 5));
            }
        });

        var random = new Random(6455);
        var garbage = new List<Task>();
        for (int g = 0; g < 12; g++)
        {
            int index = g;
            byte[] noise = new byte[1 + random.Next(64 * 1024)];
            random.NextBytes(noise);
            garbage.Add(Task.Run(async () =>
            {
                using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, $"/garbage/{index}");
                try
                {
                    await client.SendAsync(noise);
                    while (await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10)) is not null)
                    {
                    }
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
                {
                    // The server may reset a connection it failed while garbage was still arriving.
                }
            }));
        }

        await Task.WhenAll(garbage).WaitAsync(TimeSpan.FromSeconds(15));
        await sending.WaitAsync(TimeSpan.FromSeconds(15));
        await healthy.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        RecordingHandler neighbour = handlers["/healthy"];
        Assert.Equal(1000, (await neighbour.Disconnected.WaitAsync(TimeSpan.FromSeconds(10))).Code);
        Assert.Equal(Enumerable.Range(0, Frames * 5).Select(i => (ulong)i), neighbour.Trades.Select(t => BitConverter.ToUInt64(t, 8)));
        Assert.Empty(neighbour.Errors);
        foreach ((string path, RecordingHandler h) in handlers.Where(e => e.Key != "/healthy"))
        {
            WebSocketCloseInfo info = await h.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(info.Code is 1002 or 1003 or 1007 or 1009 or 1006, $"{path}: {info.Code}");
            Assert.Equal(1, h.Disconnects);
        }

        Assert.Equal(13, handlers.Count);
        await SecurityWait(() => server.ConnectionCount == 0);
    }

    private static async Task SecurityWait(Func<bool> condition) => await Security.SecurityTestKit.WaitUntil(condition);
}
