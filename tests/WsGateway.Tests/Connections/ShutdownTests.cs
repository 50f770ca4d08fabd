using Microsoft.Extensions.Time.Testing;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Connections;

public sealed class ShutdownTests
{
    [Fact]
    public async Task A_handler_stuck_in_a_callback_does_not_hang_shutdown()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var handler = new RecordingHandler
        {
            ThrowOnTrade = _ =>
            {
                entered.Set();
                release.Wait(TimeSpan.FromSeconds(30)); // user code that never returns (until the test ends)
                return null;
            },
        };
        var options = new TradeGatewayOptions { ShutdownTimeout = TimeSpan.FromSeconds(10), CloseTimeout = TimeSpan.FromSeconds(5) };
        using var manager = InMemoryConnection.CreateManager(_ => handler, options, time);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: false);
        await connection.SendAsync(BinaryFrame(Trade(1)));
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10)));

        Task shutdown = manager.ShutdownAsync();
        time.Advance(TimeSpan.FromSeconds(11)); // shutdown timeout: connections are aborted
        await Task.Delay(50);
        Assert.False(shutdown.IsCompleted); // the stuck callback still holds its connection
        time.Advance(TimeSpan.FromSeconds(6)); // then, after the close timeout, shutdown gives up on it

        await shutdown.WaitAsync(TimeSpan.FromSeconds(10));
        release.Set();
        await connection.WaitClosedAsync();
        Assert.Equal(1, handler.Disconnects);
    }
}
