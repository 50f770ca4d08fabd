using System.Buffers;
using WsGateway.Framing;

namespace WsGateway.Tests.Framing;

public class PooledArrayTests
{
    [Fact]
    public void Rents_the_first_array_at_least_minimum_and_needed()
    {
        var pool = new ExactPool<byte>();
        byte[]? array = null;

        PooledArray.Grow(ref array, used: 0, needed: 10, minimum: 64, pool: pool);
        Assert.Equal(64, array.Length);

        array = null;
        PooledArray.Grow(ref array, used: 0, needed: 100, minimum: 64, pool: pool);
        Assert.Equal(100, array.Length);
        Assert.Equal(0, pool.Returned);
    }

    [Fact]
    public void Does_nothing_when_the_array_is_big_enough()
    {
        var pool = new ExactPool<byte>();
        byte[]? array = new byte[16];
        byte[] before = array;

        PooledArray.Grow(ref array, used: 16, needed: 16, pool: pool);

        Assert.Same(before, array);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Doubles_keeps_the_used_items_from_usedStart_and_returns_the_old_array()
    {
        var pool = new ExactPool<int>();
        int[]? array = [0, 1, 2, 3, 4, 5, 6, 7];
        int[] old = array;

        PooledArray.Grow(ref array, used: 3, needed: 9, usedStart: 4, pool: pool);

        Assert.Equal(16, array.Length);
        Assert.Equal([4, 5, 6], array[..3]);
        Assert.Same(old, Assert.Single(pool.ReturnedArrays));
    }

    [Fact]
    public void Maximum_caps_the_doubling_but_not_what_is_needed()
    {
        var pool = new ExactPool<byte>();
        byte[]? array = new byte[600];

        PooledArray.Grow(ref array, used: 600, needed: 700, maximum: 1000, pool: pool);
        Assert.Equal(1000, array.Length);

        PooledArray.Grow(ref array, used: 1000, needed: 1500, maximum: 1000, pool: pool);
        Assert.Equal(1500, array.Length);
    }

    [Fact]
    public void Return_gives_back_a_rented_array_once_and_never_an_empty_one()
    {
        var pool = new ExactPool<byte>();
        byte[]? array = new byte[8];

        PooledArray.Return(ref array, pool);
        Assert.Null(array);
        PooledArray.Return(ref array, pool);

        byte[]? empty = [];
        PooledArray.Return(ref empty, pool);
        Assert.Null(empty);
        Assert.Equal(1, pool.Returned);
    }

    /// <summary>Rents exactly the length asked for, so the sizes PooledArray asks for are visible.</summary>
    private sealed class ExactPool<T> : ArrayPool<T>
    {
        public int Rented { get; private set; }

        public int Returned => ReturnedArrays.Count;

        public List<T[]> ReturnedArrays { get; } = [];

        public override T[] Rent(int minimumLength)
        {
            Rented++;
            return new T[minimumLength];
        }

        public override void Return(T[] array, bool clearArray = false) => ReturnedArrays.Add(array);
    }
}
