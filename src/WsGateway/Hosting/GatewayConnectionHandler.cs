using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using WsGateway.Connections;

namespace WsGateway.Hosting;

/// <summary>
/// Kestrel's side of the standalone server: each accepted TCP connection's duplex pipe becomes a
/// <see cref="WebSocketConnection"/>, whose task is the connection's lifetime.
/// </summary>
internal sealed class GatewayConnectionHandler(ConnectionManager manager) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        // With wss:// Kestrel's TLS middleware runs first: the transport carries decrypted bytes and the feature
        // tells that the connection is secure (and which certificate the client presented, if asked for one).
        ITlsConnectionFeature? tls = connection.Features.Get<ITlsConnectionFeature>();
        PendingHandshake? pending = connection.Features.Get<PendingHandshake>();
        return new WebSocketConnection(new KestrelConnectionTransport(connection, closesWhenHandlerReturns: tls is not null), manager, connection.RemoteEndPoint, connection.LocalEndPoint).RunAsync(pending, tls is not null, tls?.ClientCertificate);
    }

    /// <summary>Connection middleware that runs first, at the TCP accept (before TLS): counts the connection as a
    /// handshake in progress (<see cref="TradeGatewayOptions.MaxPendingHandshakes"/>, per address too) and starts its
    /// handshake timeout; over the limit the connection is answered 503 (plain) or closed (TLS) at once.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> CountPendingHandshakes(ConnectionManager manager, bool secure)
        => next => async connection =>
        {
            // Over TLS nothing can be answered before the TLS handshake: the refusal is dropped with the connection.
            PendingHandshake? pending = manager.BeginHandshakeOrRefuse(connection.RemoteEndPoint, 0, out byte[]? refusal);
            if (pending is null)
            {
                if (!secure)
                {
                    await connection.Transport.Output.WriteAsync(refusal).ConfigureAwait(false);
                }

                return;
            }

            connection.Features.Set(pending);
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                pending.End();
            }
        };
}

/// <summary>A Kestrel connection as the connection core's transport: <see cref="Abort"/> closes the socket now
/// (<see cref="BaseConnectionContext.Abort(ConnectionAbortedException)"/>), and <see cref="Closed"/> is
/// <see cref="BaseConnectionContext.ConnectionClosed"/>, which fires once Kestrel has sent what was left and closed
/// the socket, or the client closed its side.</summary>
/// <param name="connection">Kestrel's connection.</param>
/// <param name="closesWhenHandlerReturns">Over TLS, Kestrel's TLS middleware wraps the socket's pipe and closes the socket
/// only after the connection handler returns, so <see cref="Closed"/> could never complete before that: it is complete
/// at once, the final flush is bounded by the write deadline, and Kestrel closes the socket as the handler returns.</param>
internal sealed class KestrelConnectionTransport(ConnectionContext connection, bool closesWhenHandlerReturns = false) : IConnectionTransport
{
    private Task? _closed;

    public PipeReader Input => connection.Transport.Input;

    public PipeWriter Output => connection.Transport.Output;

    public Task Closed => _closed ??= closesWhenHandlerReturns ? Task.CompletedTask : WhenClosed(connection.ConnectionClosed);

    public void Abort(string reason) => connection.Abort(new ConnectionAbortedException(reason));

    /// <summary>Kestrel fires <see cref="BaseConnectionContext.ConnectionClosed"/> when its receive loop sees the
    /// client's FIN or reset, but not while the pipe is full (a paused connection's is, at the read-ahead limit): then
    /// the socket's TCP state tells (Linux: <c>TCP_INFO</c>, CLOSE_WAIT after a FIN, CLOSE after a reset).</summary>
    public bool PeerClosed
        => connection.ConnectionClosed.IsCancellationRequested
            || (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket && TcpState.PeerHasClosed(socket));

    private static Task WhenClosed(CancellationToken closed)
    {
        if (closed.IsCancellationRequested || !closed.CanBeCanceled)
        {
            return Task.CompletedTask;
        }

        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        closed.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), source);
        return source.Task;
    }
}
