using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace WsGateway.Sbe;

/// <summary>
/// Throw sites kept out of the hot methods (System.IO.Pipelines style): the <c>Throw*</c> method is
/// tiny and <see cref="DoesNotReturnAttribute"/>, the exception is built in a non-inlined <c>Create*</c>.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSbeDecodeException(SbeDecodeError error) => throw CreateSbeDecodeException(error);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SbeDecodeException CreateSbeDecodeException(SbeDecodeError error) => new(error);

    [DoesNotReturn]
    public static void ThrowDestinationTooSmall(long expected, int actual, string paramName)
        => throw CreateDestinationTooSmall(expected, actual, paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException CreateDestinationTooSmall(long expected, int actual, string paramName)
        => new(string.Create(CultureInfo.InvariantCulture, $"Destination too small: expected {expected} bytes, got {actual}"), paramName);

    [DoesNotReturn]
    public static void ThrowOffsetOutOfRange(int offset, int length, string paramName)
        => throw CreateOffsetOutOfRange(offset, length, paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentOutOfRangeException CreateOffsetOutOfRange(int offset, int length, string paramName)
        => new(paramName, offset, string.Create(CultureInfo.InvariantCulture, $"Offset out of range: expected 0 to {length}, got {offset}"));
}
