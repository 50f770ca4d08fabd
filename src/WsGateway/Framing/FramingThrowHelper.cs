using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace WsGateway.Framing;

/// <summary>Throw sites kept out of the hot methods so those stay small and inlineable.</summary>
internal static class FramingThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, string message) => throw CreateArgumentOutOfRange(paramName, message);

    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) => throw CreateArgument(paramName, message);

    [DoesNotReturn]
    public static void ThrowObjectDisposed(string objectName) => throw CreateObjectDisposed(objectName);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw CreateInvalidOperation(message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentOutOfRangeException CreateArgumentOutOfRange(string paramName, string message) => new(paramName, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException CreateArgument(string paramName, string message) => new(message, paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectDisposedException CreateObjectDisposed(string objectName) => new(objectName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException CreateInvalidOperation(string message) => new(message);
}
