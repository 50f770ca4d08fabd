namespace WsGateway.Examples.Tests.Infrastructure;

/// <summary>Polls a condition that another thread (a connection's loop, the queue's consumer) makes true.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within the timeout");
            await Task.Delay(10);
        }
    }
}
