using System.Buffers.Binary;
using System.Security.Cryptography;

namespace WsGateway.Client;

/// <summary>
/// Masking keys for client frames (RFC 6455 §5.3: "derived from a strong source of entropy", unpredictable per
/// frame). Keys are drawn from <see cref="RandomNumberGenerator"/> 4 KiB at a time and handed out 4 bytes each,
/// so 1,024 frames cost one call into the OS generator and no frame allocates.
/// </summary>
/// <remarks>Not thread safe: one instance per sending path.</remarks>
internal sealed class MaskKeySource
{
    public const int BufferSize = 4096;

    private readonly byte[] _keys = new byte[BufferSize];
    private readonly Func<int>? _override;
    private int _position = BufferSize;

    /// <param name="keyOverride">Test hook: returns every key instead of the generator.</param>
    public MaskKeySource(Func<int>? keyOverride = null) => _override = keyOverride;

    /// <summary>Refills of the 4 KiB buffer so far (for tests).</summary>
    public int Refills { get; private set; }

    /// <summary>The next key, in the form <see cref="Framing.Masking.Apply(Span{byte}, int, int)"/> takes.</summary>
    public int NextKey()
    {
        if (_override is { } keyOverride)
        {
            return keyOverride();
        }

        if (_position == BufferSize)
        {
            RandomNumberGenerator.Fill(_keys);
            _position = 0;
            Refills++;
        }

        int key = BinaryPrimitives.ReadInt32LittleEndian(_keys.AsSpan(_position));
        _position += sizeof(int);
        return key;
    }
}
