using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>Reads back every message of a stream and decodes the trades in it (what a consumer behind the gateway
/// sees): one per message with <c>record=trade</c>, a frame's with <c>record=frame</c>.</summary>
internal static class StreamContents
{
    public static async Task<List<Trade>> ReadAllAsync(NatsCluster cluster, string stream)
    {
        await using NatsConnection nats = cluster.Connect();
        var js = new NatsJSContext(nats);
        INatsJSStream info = await js.GetStreamAsync(stream);
        long expected = (long)info.Info.State.Messages;
        var trades = new List<Trade>((int)expected);
        long messages = 0;
        ulong next = 1; // the lowest stream sequence not read yet
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // An ordered consumer can stall, end early, or (resetting itself while the cluster settles after a node was
        // killed) deliver a message again or jump ahead: each attempt gets 10 s; a stream sequence already read is
        // skipped, and a jump ends the attempt, so that the next starts at the lowest sequence not read yet. A
        // message is read once per stream sequence: two stored copies of a trade are two sequences, still caught.
        while (messages < expected && !timeout.IsCancellationRequested)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            attempt.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                INatsJSConsumer consumer = await js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, OptStartSeq = next }, attempt.Token);
                await foreach (NatsJSMsg<byte[]> message in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 20_000 }, cancellationToken: attempt.Token))
                {
                    ulong sequence = message.Metadata!.Value.Sequence.Stream;
                    if (sequence != next)
                    {
                        if (sequence > next)
                        {
                            break; // a jump: start again at the gap
                        }

                        continue; // delivered again
                    }

                    byte[] data = message.Data!;
                    Assert.True(data.Length > 0 && data.Length % Trade.EncodedSize == 0, $"stream sequence {sequence} has {data.Length} bytes: not whole trades");

                    // The record's id (the sink's deduplication key) names its own trades: the first, or first-last.
                    ulong first = Trade.Decode(data).TradeId;
                    ulong last = Trade.Decode(data.AsSpan(data.Length - Trade.EncodedSize)).TradeId;
                    string id = data.Length == Trade.EncodedSize ? $"{first}" : $"{first}-{last}";
                    if (message.Headers?["Nats-Msg-Id"].ToString() is { Length: > 0 } header)
                    {
                        Assert.True(header == id, $"stream sequence {sequence}: message id {header} holds trades {id} ({data.Length / Trade.EncodedSize} trades)");
                    }

                    for (int offset = 0; offset < data.Length; offset += Trade.EncodedSize)
                    {
                        trades.Add(Trade.Decode(data.AsSpan(offset, Trade.EncodedSize)));
                    }

                    next = sequence + 1;
                    if (++messages >= expected)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
            {
                // this attempt stalled: start another from where it stopped
            }
        }

        Assert.Equal(expected, messages);
        return trades;
    }

    /// <summary>Asserts that the trades are exactly ids 1..count, each once, and says what is missing or doubled.</summary>
    public static void AssertExactlyOnce(IReadOnlyList<Trade> stored, long count)
        => AssertExactlyOnce(stored, [.. Enumerable.Range(1, (int)count).Select(i => (ulong)i)]);

    /// <summary>Asserts that the trades are exactly the ids <paramref name="expected"/>, each once.</summary>
    public static void AssertExactlyOnce(IReadOnlyList<Trade> stored, HashSet<ulong> expected)
    {
        long count = expected.Count;
        var seen = new Dictionary<ulong, int>();
        foreach (Trade trade in stored)
        {
            seen[trade.TradeId] = seen.GetValueOrDefault(trade.TradeId) + 1;
        }

        ulong[] doubled = [.. seen.Where(p => p.Value > 1).Select(p => p.Key).Order().Take(10)];
        ulong[] missing = [.. expected.Where(id => !seen.ContainsKey(id)).Order().Take(10)];
        ulong[] unexpected = [.. seen.Keys.Where(id => !expected.Contains(id)).Order().Take(10)];
        Assert.True(
            doubled.Length == 0 && missing.Length == 0 && unexpected.Length == 0 && stored.Count == count,
            $"expected {count} trades once each; got {stored.Count} messages, doubled (first 10): [{string.Join(", ", doubled)}], missing (first 10): [{string.Join(", ", missing)}], unexpected: [{string.Join(", ", unexpected)}]");
    }

    /// <summary>The trade with id <paramref name="id"/> as the tests send it: every field derived from the id, so a
    /// stored trade can be checked byte for byte.</summary>
    public static Trade TradeFor(long id) => new((ulong)id, (byte)('A' + (id % 26)), 100 + (id % 1000) / 8.0, (uint)(id % 5000) + 1);
}
