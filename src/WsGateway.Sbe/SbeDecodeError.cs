using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace WsGateway.Sbe;

/// <summary>
/// A decode failure as a value: the <see cref="Status"/> and the two numbers the message names
/// (what was expected and what arrived). Creating one never allocates; the text is rendered only
/// when asked for, by <see cref="ToString()"/> or, without allocating, by <see cref="TryFormat"/>.
/// </summary>
/// <remarks>
/// The default value has <see cref="Status"/> <see cref="SbeDecodeStatus.None"/> and means "no error".
/// The value does not refer to the decoded buffer, so it may be kept after the buffer is gone.
/// </remarks>
public readonly struct SbeDecodeError : IEquatable<SbeDecodeError>, ISpanFormattable
{
    /// <summary>Creates an error value.</summary>
    /// <param name="status">What went wrong.</param>
    /// <param name="expected">The value or length that was expected.</param>
    /// <param name="actual">The value or length that was found.</param>
    public SbeDecodeError(SbeDecodeStatus status, int expected, int actual)
    {
        Status = status;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>What went wrong; <see cref="SbeDecodeStatus.None"/> when nothing did.</summary>
    public SbeDecodeStatus Status { get; }

    /// <summary>
    /// The expected value: a length in bytes for <see cref="SbeDecodeStatus.InsufficientData"/>,
    /// the minimum block length for <see cref="SbeDecodeStatus.BlockLengthTooSmall"/>, the expected id otherwise.
    /// </summary>
    public int Expected { get; }

    /// <summary>The value that arrived: the available byte count, the header's block length, or the header's id.</summary>
    public int Actual { get; }

    /// <summary><see langword="true"/> when <see cref="Status"/> is not <see cref="SbeDecodeStatus.None"/>.</summary>
    public bool IsError => Status != SbeDecodeStatus.None;

    /// <summary>The message text, e.g. <c>Insufficient data: expected 29 bytes, got 20</c>. Allocates a string.</summary>
    public string Message => ToString();

    /// <summary>
    /// Writes the message text into <paramref name="destination"/> without allocating.
    /// The longest text is under 80 characters.
    /// </summary>
    /// <param name="destination">Where to write the characters.</param>
    /// <param name="charsWritten">How many characters were written.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too small.</returns>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        return Status switch
        {
            SbeDecodeStatus.None => destination.TryWrite(c, $"No error", out charsWritten),
            SbeDecodeStatus.InsufficientData => destination.TryWrite(c, $"Insufficient data: expected {Expected} bytes, got {Actual}", out charsWritten),
            SbeDecodeStatus.UnknownSchemaId => destination.TryWrite(c, $"Unknown schema id: expected {Expected}, got {Actual}", out charsWritten),
            SbeDecodeStatus.UnknownTemplateId => destination.TryWrite(c, $"Unknown template id: expected {Expected}, got {Actual}", out charsWritten),
            SbeDecodeStatus.BlockLengthTooSmall => destination.TryWrite(c, $"Block length too small: expected at least {Expected}, got {Actual}", out charsWritten),
            _ => destination.TryWrite(c, $"Decode error {(int)Status}: expected {Expected}, got {Actual}", out charsWritten),
        };
    }

    /// <summary>Returns the message text, e.g. <c>Unknown template id: expected 1, got 7</c>.</summary>
    /// <returns>The message text.</returns>
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[128];
        bool written = TryFormat(buffer, out int length);
        Debug.Assert(written);
        return new string(buffer[..length]);
    }

    /// <inheritdoc cref="TryFormat(Span{char}, out int)"/>
    /// <param name="destination">Where to write the characters.</param>
    /// <param name="charsWritten">How many characters were written.</param>
    /// <param name="format">Ignored: there is one format.</param>
    /// <param name="provider">Ignored: the text is culture-invariant.</param>
    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => TryFormat(destination, out charsWritten);

    /// <inheritdoc cref="ToString()"/>
    /// <param name="format">Ignored: there is one format.</param>
    /// <param name="formatProvider">Ignored: the text is culture-invariant.</param>
    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Compares status, expected and actual values.</summary>
    /// <param name="other">The other error.</param>
    /// <returns><see langword="true"/> when all three are equal.</returns>
    public bool Equals(SbeDecodeError other)
        => Status == other.Status && Expected == other.Expected && Actual == other.Actual;

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is SbeDecodeError other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Status, Expected, Actual);

    /// <summary>Compares two errors with <see cref="Equals(SbeDecodeError)"/>.</summary>
    /// <param name="left">The first error.</param>
    /// <param name="right">The second error.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(SbeDecodeError left, SbeDecodeError right) => left.Equals(right);

    /// <summary>Compares two errors with <see cref="Equals(SbeDecodeError)"/>.</summary>
    /// <param name="left">The first error.</param>
    /// <param name="right">The second error.</param>
    /// <returns><see langword="true"/> when not equal.</returns>
    public static bool operator !=(SbeDecodeError left, SbeDecodeError right) => !left.Equals(right);
}
