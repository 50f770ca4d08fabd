using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace WsGateway.Framing;

/// <summary>RFC 6455 §5.3 masking: <c>data[i] ^= key[(offset + i) % 4]</c>, in place.</summary>
internal static class Masking
{
    /// <summary>
    /// XORs <paramref name="data"/> in place with the 4-byte key, starting at key byte <paramref name="keyOffset"/>,
    /// so a payload unmasked in several chunks continues the key rotation across calls.
    /// </summary>
    /// <param name="data">Bytes to mask or unmask (the operation is its own inverse).</param>
    /// <param name="maskKey">The key as <see cref="FrameHeader.MaskKey"/> holds it: wire byte 0 in the low byte.</param>
    /// <param name="keyOffset">Key byte to start with, 0 to 3: the value the previous call returned, or 0 for a new payload.</param>
    /// <returns>The key offset for the byte after <paramref name="data"/>.</returns>
    /// <remarks>
    /// The key is rotated once so that its byte 0 lines up with <paramref name="keyOffset"/>; every block below is a
    /// multiple of 4 bytes, so the rotated key stays in phase through the vector loops (512, 256, 128 bits where the
    /// hardware accelerates them), the 8-byte loop and the 4-byte step, and only the final 0-3 bytes go one at a time.
    /// </remarks>
    public static int Apply(Span<byte> data, int maskKey, int keyOffset)
    {
        if ((uint)keyOffset > 3)
        {
            FramingThrowHelper.ThrowArgumentOutOfRange(nameof(keyOffset), "The key offset must be 0 to 3.");
        }

        int length = data.Length;
        if (length == 0)
        {
            return keyOffset;
        }

        // Key byte n (wire order) sits in bits 8n..8n+7. After the rotation, bits 0..7 hold key byte keyOffset.
        uint rotated = BitOperations.RotateRight((uint)maskKey, keyOffset * 8);

        // `rotated` as it must appear in memory: low byte first.
        uint memoryKey = BitConverter.IsLittleEndian ? rotated : BinaryPrimitives.ReverseEndianness(rotated);

        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint remaining = (nuint)length;
        nuint index = 0;

        if (Vector128.IsHardwareAccelerated && remaining >= (nuint)Vector128<byte>.Count)
        {
            if (Vector512.IsHardwareAccelerated && remaining >= (nuint)Vector512<byte>.Count)
            {
                Vector512<byte> key512 = Vector512.Create(memoryKey).AsByte();
                do
                {
                    (Vector512.LoadUnsafe(ref start, index) ^ key512).StoreUnsafe(ref start, index);
                    index += (nuint)Vector512<byte>.Count;
                    remaining -= (nuint)Vector512<byte>.Count;
                }
                while (remaining >= (nuint)Vector512<byte>.Count);
            }

            if (Vector256.IsHardwareAccelerated && remaining >= (nuint)Vector256<byte>.Count)
            {
                Vector256<byte> key256 = Vector256.Create(memoryKey).AsByte();
                do
                {
                    (Vector256.LoadUnsafe(ref start, index) ^ key256).StoreUnsafe(ref start, index);
                    index += (nuint)Vector256<byte>.Count;
                    remaining -= (nuint)Vector256<byte>.Count;
                }
                while (remaining >= (nuint)Vector256<byte>.Count);
            }

            Vector128<byte> key128 = Vector128.Create(memoryKey).AsByte();
            while (remaining >= (nuint)Vector128<byte>.Count)
            {
                (Vector128.LoadUnsafe(ref start, index) ^ key128).StoreUnsafe(ref start, index);
                index += (nuint)Vector128<byte>.Count;
                remaining -= (nuint)Vector128<byte>.Count;
            }
        }

        ulong key64 = memoryKey | ((ulong)memoryKey << 32);
        while (remaining >= sizeof(ulong))
        {
            ref byte at = ref Unsafe.Add(ref start, index);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<ulong>(ref at) ^ key64);
            index += sizeof(ulong);
            remaining -= sizeof(ulong);
        }

        if (remaining >= sizeof(uint))
        {
            ref byte at = ref Unsafe.Add(ref start, index);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ memoryKey);
            index += sizeof(uint);
            remaining -= sizeof(uint);
        }

        // 0-3 bytes left; the phase is still keyOffset because every block above was a multiple of 4.
        while (remaining > 0)
        {
            Unsafe.Add(ref start, index) ^= (byte)rotated;
            rotated = BitOperations.RotateRight(rotated, 8);
            index++;
            remaining--;
        }

        return (keyOffset + length) & 3;
    }
}
