using WsGateway.Connections;

namespace WsGateway.Tests.Connections;

/// <summary>The pooled send buffer: what is written comes out in order across growth and partial sends, and nothing is
/// held once it is released.</summary>
public sealed class RentedQueueTests
{
    [Fact]
    public void Bytes_written_across_growth_and_partial_consumption_come_out_in_order_and_release_holds_nothing()
    {
        var queue = default(RentedQueue);
        Assert.Equal(0, queue.Capacity);

        var expected = new List<byte>();
        byte next = 0;
        for (int round = 0; round < 50; round++)
        {
            int size = 1 + (round * 37 % 300);
            Span<byte> span = queue.GetSpan(size, minimumSize: 64);
            Assert.True(span.Length >= size, $"round {round}: asked for {size}, got {span.Length}");
            for (int i = 0; i < size; i++)
            {
                span[i] = next;
                expected.Add(next++);
            }

            queue.Advance(size);
            if (round % 3 == 2)
            {
                // A partial send: the front goes, the rest stays in order.
                int sent = queue.Count / 2;
                Assert.Equal(expected.Take(sent).ToArray(), queue.Pending[..sent].ToArray());
                queue.Consume(sent);
                expected.RemoveRange(0, sent);
            }
        }

        Assert.Equal(expected.ToArray(), queue.Pending.ToArray());
        queue.Release();
        Assert.Equal(0, queue.Capacity);
        Assert.Equal(0, queue.Count);
    }
}
