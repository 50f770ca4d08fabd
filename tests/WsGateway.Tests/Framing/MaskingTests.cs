using FsCheck.Xunit;
using WsGateway.Framing;

namespace WsGateway.Tests.Framing;

public class MaskingTests
{
    private const int Key = 0x3d21fa37; // RFC 6455 §5.7 key bytes 37 fa 21 3d, loaded little-endian.

    private static int NaiveApply(Span<byte> data, int maskKey, int keyOffset)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] ^= (byte)(maskKey >> (8 * ((keyOffset + i) & 3)));
        }

        return (keyOffset + data.Length) & 3;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void Matches_the_naive_loop_for_every_length_offset_and_alignment()
    {
        for (int length = 0; length <= 300; length++)
        {
            for (int keyOffset = 0; keyOffset < 4; keyOffset++)
            {
                // The start of the span is moved within the array so vector and word loads run unaligned too.
                for (int start = 0; start < 4; start++)
                {
                    byte[] original = Pattern(length + start, length * 16 + keyOffset * 4 + start);
                    byte[] expected = original.ToArray();
                    byte[] actual = original.ToArray();

                    int expectedNext = NaiveApply(expected.AsSpan(start), Key, keyOffset);
                    int actualNext = Masking.Apply(actual.AsSpan(start), Key, keyOffset);

                    Assert.Equal(expectedNext, actualNext);
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"length {length}, offset {keyOffset}, start {start}");
                }
            }
        }
    }

    [Fact]
    public void Rfc_example_unmasks_to_Hello()
    {
        byte[] payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        Assert.Equal(1, Masking.Apply(payload, Key, 0));
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void Does_not_touch_bytes_outside_the_span()
    {
        byte[] buffer = Pattern(200, 7);
        byte[] before = buffer.ToArray();
        Masking.Apply(buffer.AsSpan(3, 190), unchecked((int)0xFFFFFFFF), 2);
        Assert.Equal(before[..3], buffer[..3]);
        Assert.Equal(before[193..], buffer[193..]);
    }

    [Fact]
    public void Rejects_an_offset_outside_0_to_3()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Masking.Apply(new byte[4], Key, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Masking.Apply(new byte[4], Key, -1));
    }

    [Property(MaxTest = 500)]
    public void Matches_the_naive_loop(byte[] data, int key, byte offset)
    {
        int keyOffset = offset & 3;
        byte[] expected = data.ToArray();
        int expectedNext = NaiveApply(expected, key, keyOffset);
        int actualNext = Masking.Apply(data, key, keyOffset);
        Assert.Equal(expectedNext, actualNext);
        Assert.Equal(expected, data);
    }

    [Property(MaxTest = 500)]
    public void Chunked_application_continues_the_key_rotation(byte[] data, int key, byte[] chunkSizes)
    {
        byte[] expected = data.ToArray();
        NaiveApply(expected, key, 0);

        int position = 0;
        int keyOffset = 0;
        foreach (byte size in chunkSizes)
        {
            int count = Math.Min(size, data.Length - position);
            keyOffset = Masking.Apply(data.AsSpan(position, count), key, keyOffset);
            position += count;
        }

        Masking.Apply(data.AsSpan(position), key, keyOffset);
        Assert.Equal(expected, data);
    }

    [Fact]
    public void Applying_twice_restores_the_data()
    {
        byte[] original = Pattern(1000, 3);
        byte[] data = original.ToArray();
        Masking.Apply(data, Key, 1);
        Assert.NotEqual(original, data);
        Masking.Apply(data, Key, 1);
        Assert.Equal(original, data);
    }
}
