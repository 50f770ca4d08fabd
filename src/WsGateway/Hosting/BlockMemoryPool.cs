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
/// created through (<see cref="IMemoryPoolFactory{T}"/>) is public since .NET 10.</remarks>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int DefaultBlockSize = 32 * 1024;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _blockSize;
    private readonly int _maxRetained;
    private volatile bool _disposed;

    public BlockMemoryPool(int blockSize = DefaultBlockSize, int maxRetained = 4096)
    {
        _blockSize = blockSize;
        _maxRetained = maxRetained;
    }

    public override int MaxBufferSize => _blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _free.TryDequeue(out Block? block) ? block : new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
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
internal sealed class BlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BlockMemoryPool();
}
