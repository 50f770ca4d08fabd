using WsGateway.Sbe;

namespace WsGateway.Sinks.Tests;

/// <summary>Batches the way the pipeline hands them to a sink: SBE messages end to end, from trades the test chose.</summary>
internal static class TestBatches
{
    public static TradeBatch Of(IReadOnlyList<Trade> trades)
    {
        byte[] bytes = new byte[trades.Count * Trade.EncodedSize];
        for (int i = 0; i < trades.Count; i++)
        {
            trades[i].Encode(bytes.AsSpan(i * Trade.EncodedSize));
        }

        return new TradeBatch(bytes, trades.Count, Trade.EncodedSize);
    }

    /// <summary>Trades <paramref name="first"/> .. first+count-1, each with fields derived from its id.</summary>
    public static Trade[] Range(ulong first, int count)
    {
        var trades = new Trade[count];
        for (int i = 0; i < count; i++)
        {
            ulong id = first + (ulong)i;
            trades[i] = new Trade(id, (byte)('A' + (int)(id % 26)), 100 + (id % 1000 * 0.25), (uint)(id % 5000) + 1);
        }

        return trades;
    }

    /// <summary>Calls <paramref name="publish"/> until it succeeds, as the sink pipeline does with a failed batch;
    /// counts the failures. Bounded by <paramref name="deadline"/>.</summary>
    public static async Task<int> PublishWithRetriesAsync(Func<Task> publish, DateTime deadline)
    {
        int failures = 0;
        while (true)
        {
            try
            {
                await publish();
                return failures;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                failures++;
                await Task.Delay(50);
            }
        }
    }
}
