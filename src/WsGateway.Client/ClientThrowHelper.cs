using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace WsGateway.Client;

/// <summary>Throw sites kept out of the send and receive methods so those stay small.</summary>
internal static class ClientThrowHelper
{
    [DoesNotReturn]
    public static void ThrowClosing() => throw CreateClosing();

    [DoesNotReturn]
    public static void ThrowFlushInProgress() => throw CreateFlushInProgress();

    [DoesNotReturn]
    public static void ThrowDisposed() => throw CreateDisposed();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WebSocketException CreateClosing()
        => new(WebSocketError.InvalidState, "The connection is closing or closed: a close frame was already sent, so no more messages can be sent.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException CreateFlushInProgress()
        => new("A flush is in progress. TradeClient supports one sender at a time: await each send or flush before writing the next message.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectDisposedException CreateDisposed() => new(nameof(TradeClient));
}
