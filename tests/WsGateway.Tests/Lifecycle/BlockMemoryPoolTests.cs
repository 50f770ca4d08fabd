using System.Buffers;
using Microsoft.Extensions.Time.Testing;
using WsGateway.Hosting;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 11, finding 8: the standalone server's block pool gives idle blocks back.</summary>
public sealed class BlockMemoryPoolTests
{
    [Fact]
    public void Blocks_idle_for_a_whole_trim_period_are_dropped_and_collected()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var pool = new BlockMemoryPool(blockSize: 1024, timeProvider: time);
        WeakReference block = RentAndReturn(pool, 100);
        Assert.Equal(100, pool.FreeBlocks);

        time.Advance(BlockMemoryPool.TrimPeriod); // they were rented in this period: kept
        Assert.Equal(100, pool.FreeBlocks);

        RentWhile(pool, () => time.Advance(BlockMemoryPool.TrimPeriod)); // one rent in this period: one block kept

        Assert.InRange(pool.FreeBlocks, 1, 2);
        time.Advance(BlockMemoryPool.TrimPeriod); // idle: nothing kept
        Assert.Equal(0, pool.FreeBlocks);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(block.IsAlive, "a trimmed block is still referenced");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference RentAndReturn(BlockMemoryPool pool, int count)
    {
        List<IMemoryOwner<byte>> rented = [];
        for (int i = 0; i < count; i++)
        {
            rented.Add(pool.Rent());
        }

        var first = new WeakReference(rented[0]);
        rented.ForEach(r => r.Dispose());
        return first;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RentWhile(BlockMemoryPool pool, Action during)
    {
        using IMemoryOwner<byte> busy = pool.Rent();
        during();
    }
}
