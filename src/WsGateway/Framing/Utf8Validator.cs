using System.Text.Unicode;

namespace WsGateway.Framing;

/// <summary>
/// Validates a text message's UTF-8 (RFC 6455 §8.1, RFC 3629) as it arrives in fragments, where one code point may be
/// split across frames. Fails on the fragment that holds the first invalid byte, not only at the end of the message
/// (Autobahn 6.4.x).
/// </summary>
/// <remarks>
/// The bulk of each chunk goes to the vectorised <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>. Only the bytes at chunk
/// boundaries are handled here: the continuation of a sequence the previous chunk left open, and an incomplete
/// sequence at the end of this chunk, whose prefix is checked at once (so <c>F4 90</c> fails in the fragment that
/// carries it) and remembered. Rejected: stray continuation bytes, C0/C1 and F5-FF leads, overlongs (E0 80-9F,
/// F0 80-8F), surrogates (ED A0-BF), code points above U+10FFFF (F4 90-BF), and a sequence left open at the end of
/// the message. This is a mutable struct: keep it in a field and call it through that field, never a copy.
/// </remarks>
internal struct Utf8Validator
{
    // Lead byte of the open sequence, how many bytes it has in all, and how many have been seen. _needed == 0: none open.
    private byte _lead;
    private byte _needed;
    private byte _seen;

    /// <summary>Whether a multi-byte sequence is open at the end of what has been appended so far.</summary>
    public readonly bool HasIncompleteSequence => _needed != 0;

    /// <summary>
    /// Validates the next <paramref name="chunk"/> of the message.
    /// </summary>
    /// <param name="chunk">The next bytes of the message (already unmasked).</param>
    /// <param name="final">This chunk ends the message: an open sequence is then an error.</param>
    /// <returns><see langword="false"/> if the bytes so far cannot be the start of valid UTF-8; the state is then undefined until <see cref="Reset"/>.</returns>
    public bool Append(ReadOnlySpan<byte> chunk, bool final)
    {
        if (_needed != 0)
        {
            // Finish the sequence the previous chunk left open.
            while (_seen < _needed)
            {
                if (chunk.IsEmpty)
                {
                    return !final;
                }

                if (!IsValidContinuation(_lead, _seen, chunk[0]))
                {
                    return false;
                }

                _seen++;
                chunk = chunk[1..];
            }

            _needed = 0;
        }

        int tailStart = FindIncompleteTail(chunk);
        if (tailStart < 0)
        {
            return Utf8.IsValid(chunk);
        }

        if (!Utf8.IsValid(chunk[..tailStart]))
        {
            return false;
        }

        ReadOnlySpan<byte> tail = chunk[tailStart..];
        byte lead = tail[0];
        int needed = SequenceLength(lead);
        if (needed == 0)
        {
            return false;
        }

        for (int i = 1; i < tail.Length; i++)
        {
            if (!IsValidContinuation(lead, i, tail[i]))
            {
                return false;
            }
        }

        if (final)
        {
            return false;
        }

        _lead = lead;
        _needed = (byte)needed;
        _seen = (byte)tail.Length;
        return true;
    }

    /// <summary>Forgets any open sequence, ready for the next message.</summary>
    public void Reset()
    {
        _lead = 0;
        _needed = 0;
        _seen = 0;
    }

    // Index where a lead byte starts a sequence that runs past the end of the chunk, or -1. Only the last three bytes
    // can hold such a lead; anything else (complete or malformed) is left to Utf8.IsValid.
    private static int FindIncompleteTail(ReadOnlySpan<byte> chunk)
    {
        int limit = Math.Min(3, chunk.Length);
        for (int back = 1; back <= limit; back++)
        {
            byte b = chunk[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            // ASCII (0xxxxxxx) or a lead (11xxxxxx). The declared length of an invalid lead is checked later.
            int declared = b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            return declared > back ? chunk.Length - back : -1;
        }

        return -1;
    }

    // Total length of the sequence a valid lead byte starts; 0 if the byte cannot start a multi-byte sequence.
    private static int SequenceLength(byte lead) => lead switch
    {
        >= 0xC2 and <= 0xDF => 2,
        >= 0xE0 and <= 0xEF => 3,
        >= 0xF0 and <= 0xF4 => 4,
        _ => 0,
    };

    // Whether `b` may be byte number `position` (1-based after the lead) of the sequence `lead` starts (RFC 3629 §4).
    private static bool IsValidContinuation(byte lead, int position, byte b)
    {
        if (position == 1)
        {
            return lead switch
            {
                0xE0 => b is >= 0xA0 and <= 0xBF, // no overlong 3-byte forms
                0xED => b is >= 0x80 and <= 0x9F, // no UTF-16 surrogates D800-DFFF
                0xF0 => b is >= 0x90 and <= 0xBF, // no overlong 4-byte forms
                0xF4 => b is >= 0x80 and <= 0x8F, // nothing above U+10FFFF
                _ => b is >= 0x80 and <= 0xBF,
            };
        }

        return b is >= 0x80 and <= 0xBF;
    }
}
