using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 11, finding 5: a connection that once received a large message does not keep its buffer while
/// idle.</summary>
public sealed class IdleMemoryTests
{
    [Fact]
    public async Task A_large_fragmented_message_s_buffer_goes_back_to_the_pool_when_it_is_delivered()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });
        byte[] half = new byte[512 * 1024];
        await connection.SendAsync(Concat(BinaryFrame(half, fin: false), Frame(Continuation, half)));
        await SecurityTestKit.WaitUntil(() => handler.Errors.Count == 1); // delivered (a megabyte is no trade)

        Assert.InRange(connection.Connection.MessageBufferCapacity, 0, 16 * 1024);
    }
}
