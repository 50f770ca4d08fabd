using System.Diagnostics;
using System.Reflection;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary>
/// Sending trades does not allocate. Measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>, which only sees
/// this thread: the loopback server in the same process allocates on its own threads and does not disturb it.
/// </summary>
public sealed class AllocationTests
{
    private static bool ClientIsOptimized
        => typeof(TradeClient).Assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };

    [Fact]
    public async Task Writing_10000_trades_after_warm_up_allocates_nothing_and_synchronous_flushes_nothing()
    {
        const int Count = 10_000;
        var handler = new RecordingHandler { CountOnly = true };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url, new TradeClientOptions { SendBufferSize = 16 * 1024 });

        // Warm-up: JIT, tiering, the socket's cached async state, more than one key-buffer refill.
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 3000; i++)
            {
                if (!client.TryWriteTrade(new Trade((ulong)i, (byte)'W', i, (uint)i)))
                {
                    await client.FlushAsync();
                    client.TryWriteTrade(new Trade((ulong)i, (byte)'W', i, (uint)i));
                }
            }

            await client.FlushAsync();
        }

        // The writes run synchronously between flushes, so each stretch starts and ends on one thread and is measured
        // exactly. A flush that completes asynchronously resumes on another thread, where the counter of this thread
        // means nothing: so a flush is measured only when it completed synchronously (the usual case on loopback, where
        // the kernel takes 16 KiB at once), and counted otherwise.
        long writeBytes = 0;
        long syncFlushBytes = 0;
        int syncFlushes = 0;
        int asyncFlushes = 0;
        int sent = 0;
        while (sent < Count)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            while (sent < Count && client.TryWriteTrade(new Trade((ulong)sent, (byte)'M', sent * 0.5, (uint)sent)))
            {
                sent++;
            }

            long afterWrites = GC.GetAllocatedBytesForCurrentThread();
            writeBytes += afterWrites - start;

            ValueTask flush = client.FlushAsync();
            if (flush.IsCompletedSuccessfully)
            {
                syncFlushBytes += GC.GetAllocatedBytesForCurrentThread() - afterWrites;
                syncFlushes++;
                await flush;
            }
            else
            {
                asyncFlushes++;
                await flush;
            }
        }

        Assert.Equal(0, writeBytes);
        Assert.True(syncFlushes + asyncFlushes >= Count * 35 / (16 * 1024));
        // A Debug build of the client compiles async state machines as classes (two per flush, 168 bytes); the
        // Release build (what test.sh runs, and what ships) keeps them on the stack and must allocate nothing.
        long allowedPerFlush = ClientIsOptimized ? 0 : 256;
        Assert.True(syncFlushBytes <= allowedPerFlush * syncFlushes, $"{syncFlushBytes} bytes allocated by {syncFlushes} synchronous flushes ({asyncFlushes} completed asynchronously)");

        await handler.WaitForTradesAsync(Count + 9000);
        await client.CloseAsync();
        Assert.Equal(Count + 9000, client.MessagesSent);
    }
}
