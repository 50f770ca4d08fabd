using System.Buffers;
using WsGateway.Framing;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Framing;

public class MessageBufferTests
{
    [Fact]
    public void Rents_nothing_until_the_first_write()
    {
        var pool = new CountingPool();
        using var buffer = new MessageBuffer(1024, 16, pool);
        Assert.Equal(0, buffer.Capacity);
        Assert.True(buffer.WrittenSpan.IsEmpty);
        Assert.True(buffer.TryAppend(ReadOnlySpan<byte>.Empty));
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Grows_and_keeps_the_content()
    {
        var pool = new CountingPool();
        using var buffer = new MessageBuffer(10_000, 16, pool);
        var expected = new List<byte>();
        for (int i = 0; i < 100; i++)
        {
            byte[] chunk = Enumerable.Range(i, 37).Select(x => (byte)x).ToArray();
            buffer.Append(chunk);
            expected.AddRange(chunk);
        }

        Assert.Equal(3700, buffer.Length);
        Assert.Equal(expected.ToArray(), buffer.WrittenSpan.ToArray());
        Assert.True(buffer.Capacity >= 3700);
        Assert.Equal(pool.Rented - 1, pool.Returned); // every outgrown array went back
    }

    [Fact]
    public void Never_grows_past_the_maximum()
    {
        using var buffer = new MessageBuffer(100, 16);
        Assert.True(buffer.TryAppend(new byte[60]));
        Assert.False(buffer.TryAppend(new byte[41]));
        Assert.Equal(60, buffer.Length);
        Assert.True(buffer.TryAppend(new byte[40]));
        Assert.Equal(100, buffer.Length);
        Assert.Equal(0, buffer.Remaining);
        Assert.False(buffer.TryAppend(new byte[1]));
        Assert.Throws<InvalidOperationException>(() => buffer.Append(new byte[1]));
        Assert.Throws<InvalidOperationException>(() => buffer.GetSpan());
        Assert.True(buffer.TryAppend(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void GetSpan_never_offers_more_than_remains()
    {
        using var buffer = new MessageBuffer(10, 64);
        Span<byte> span = buffer.GetSpan(3);
        Assert.Equal(10, span.Length);
        span[..3].Fill(7);
        buffer.Advance(3);
        Assert.Equal(7, buffer.GetSpan().Length);
        Assert.Throws<InvalidOperationException>(() => buffer.GetSpan(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(8));
        Assert.Equal(new byte[] { 7, 7, 7 }, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void GetSpan_and_Advance_copy_pipe_segments_in()
    {
        byte[] data = Enumerable.Range(0, 500).Select(x => (byte)x).ToArray();
        ReadOnlySequence<byte> sequence = SequenceFactory.SplitEvery(data, 33);
        using var buffer = new MessageBuffer(500, 8);
        foreach (ReadOnlyMemory<byte> segment in sequence)
        {
            Span<byte> span = buffer.GetSpan(segment.Length);
            segment.Span.CopyTo(span);
            buffer.Advance(segment.Length);
        }

        Assert.Equal(data, buffer.WrittenMemory.ToArray());
    }

    [Fact]
    public void TryAppend_takes_a_multi_segment_sequence()
    {
        byte[] data = Enumerable.Range(0, 300).Select(x => (byte)x).ToArray();
        using var buffer = new MessageBuffer(300, 8);
        Assert.True(buffer.TryAppend(SequenceFactory.Split(data, 1, 100, 299)));
        Assert.Equal(data, buffer.WrittenSpan.ToArray());
        Assert.False(buffer.TryAppend(SequenceFactory.Split([1, 2], 1)));
        Assert.Equal(300, buffer.Length);
    }

    [Fact]
    public void Clear_keeps_the_array()
    {
        var pool = new CountingPool();
        using var buffer = new MessageBuffer(1000, 64, pool);
        buffer.Append(new byte[50]);
        int capacity = buffer.Capacity;
        buffer.Clear();
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.WrittenSpan.IsEmpty);
        Assert.Equal(capacity, buffer.Capacity);
        buffer.Append([1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer.WrittenSpan.ToArray());
        Assert.Equal(1, pool.Rented);
        Assert.Equal(0, pool.Returned);
    }

    [Fact]
    public void Clear_returns_an_array_larger_than_the_retained_capacity_to_the_pool()
    {
        var pool = new CountingPool();
        using var buffer = new MessageBuffer(1024 * 1024, 64, pool);
        buffer.Append(new byte[(1024 * 1024) - 1]);
        Assert.True(buffer.Capacity > 16 * 1024);
        buffer.Clear();
        Assert.Equal(0, buffer.Capacity);
        Assert.Equal(pool.Rented, pool.Returned);
        buffer.Append([7]);
        Assert.Equal(new byte[] { 7 }, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Dispose_returns_the_array_once_and_blocks_further_use()
    {
        var pool = new CountingPool();
        var buffer = new MessageBuffer(1000, 64, pool);
        buffer.Append(new byte[100]);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Equal(pool.Rented, pool.Returned);
        Assert.Equal(0, buffer.Capacity);
        Assert.Throws<ObjectDisposedException>(() => buffer.Append([1]));
        Assert.Throws<ObjectDisposedException>(() => buffer.GetSpan());
        Assert.Throws<ObjectDisposedException>(() => buffer.Clear());
    }

    private sealed class CountingPool : ArrayPool<byte>
    {
        public int Rented { get; private set; }

        public int Returned { get; private set; }

        public override byte[] Rent(int minimumLength)
        {
            Rented++;
            return new byte[minimumLength];
        }

        public override void Return(byte[] array, bool clearArray = false) => Returned++;
    }
}
