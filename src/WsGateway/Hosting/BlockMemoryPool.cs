using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace WsGateway.Hosting;

/// <summary>
/// A memory pool of large pinned blocks for the standalone server's socket transport. Kestrel's default pool hands
/// out 4 KiB blocks, so a socket is read at most 4 KiB at a time and a batched frame of a few KiB often straddles two
/// blocks (and must then be copied to be handed over whole). With 32 KiB blocks a read brings eight times as much per
/// system call and most frames sit in one block. Idle connections hold no block: the transport waits for data with a
/// zero-byte read before it rents one.
/// </summary>
/// <remarks>Written by hand because Kestrel's own pinned block pool is internal; the factory interface it is
/// created through (<see cref="IMemoryPoolFactory{T}"/>) is public since .NET 10. Like Kestrel's pool since .NET 9,
/// it gives idle memory back: every <see cref="TrimPeriod"/>, free blocks beyond the number rented during the last
/// period are dropped (and collected), so a burst's blocks do not stay pinned after its clients leave.</remarks>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int DefaultBlockSize = 32 * 1024;

    /// <summary>How often idle blocks are trimmed.</summary>
    public static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _blockSize;
    private readonly int _maxRetained;
    private readonly ITimer _trimTimer;
    private int _rentedSinceTrim;
    private volatile bool _disposed;

    public BlockMemoryPool(int blockSize = DefaultBlockSize, int maxRetained = 4096, TimeProvider? timeProvider = null)
    {
        _blockSize = blockSize;
        _maxRetained = maxRetained;
        _trimTimer = (timeProvider ?? TimeProvider.System).CreateTimer(static state => ((BlockMemoryPool)state!).Trim(), this, TrimPeriod, TrimPeriod);
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks kept for reuse.</summary>
    public int FreeBlocks => _free.Count;

    /// <summary>Drops the free blocks beyond those rented since the last trim: a pool that served no rent for a
    /// whole period keeps nothing.</summary>
    public void Trim()
    {
        int recent = Interlocked.Exchange(ref _rentedSinceTrim, 0);
        for (int excess = _free.Count - recent; excess > 0 && _free.TryDequeue(out _); excess--)
        {
        }
    }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _rentedSinceTrim);
        return _free.TryDequeue(out Block? block) ? block : new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _trimTimer.Dispose();
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!_disposed && _free.Count < _maxRetained)
        {
            _free.Enqueue(block);
        }
    }

    private sealed class Block(BlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool.Return(this);
    }
}

/// <summary>Creates <see cref="BlockMemoryPool"/>s for Kestrel.</summary>
internal sealed class BlockMemoryPoolFactory(TimeProvider timeProvider) : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BlockMemoryPool(timeProvider: timeProvider);
}
