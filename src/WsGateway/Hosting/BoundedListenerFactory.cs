using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using WsGateway.Connections;

namespace WsGateway.Hosting;

/// <summary>
/// Kestrel's socket transport with a bound on the client sockets it holds open (<see cref="DescriptorBudget"/>): at
/// the bound, the next accept waits until a socket has closed, and the clients meanwhile wait in the listen backlog.
/// Kestrel accepts as fast as it can and closes a refused connection later, on the thread pool; without the bound a
/// flood of clients answered 503 holds a descriptor each until then and takes the ones the runtime needs (to load an
/// assembly, to start a thread), and Kestrel's accept loop retries a failed accept at once, spinning, with a debug
/// log only. The bound covers every listener of one server (a <c>localhost</c> server has two).
/// </summary>
internal sealed class BoundedListenerFactory : IConnectionListenerFactory
{
    private readonly IConnectionListenerFactory _inner;
    private readonly SemaphoreSlim _sockets;
    private readonly int _maxSockets;
    private readonly ILogger _logger;
    private long _fullAt; // Stopwatch timestamp of the last accept that found every place taken; 0 outside an episode

    public BoundedListenerFactory(IConnectionListenerFactory inner, int maxSockets, ILogger logger)
    {
        _inner = inner;
        _maxSockets = maxSockets;
        _sockets = new SemaphoreSlim(maxSockets, maxSockets);
        _logger = logger;
    }

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        => new Listener(this, await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false));

    /// <summary>Takes a socket's place, waiting while all are taken. An episode of waits is logged once when it
    /// begins, and once when an accept finds a place at once a second after the last wait.</summary>
    private async ValueTask TakeAsync(CancellationToken cancellationToken)
    {
        if (_sockets.Wait(0, CancellationToken.None))
        {
            long fullAt = Volatile.Read(ref _fullAt);
            if (fullAt != 0 && Stopwatch.GetElapsedTime(fullAt) > TimeSpan.FromSeconds(1) && Interlocked.CompareExchange(ref _fullAt, 0, fullAt) == fullAt)
            {
                Log.SocketsAvailable(_logger);
            }

            return;
        }

        if (Interlocked.Exchange(ref _fullAt, Stopwatch.GetTimestamp()) == 0)
        {
            Log.SocketsExhausted(_logger, _maxSockets);
        }

        await _sockets.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class Listener(BoundedListenerFactory owner, IConnectionListener inner) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
                await owner.TakeAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null; // unbound: Kestrel's accept loop ends
            }

            ConnectionContext? connection = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
            if (connection is null)
            {
                owner._sockets.Release();
                return null;
            }

            // Kestrel's socket connection signals this once its socket is disposed.
            connection.ConnectionClosed.UnsafeRegister(static state => ((SemaphoreSlim)state!).Release(), owner._sockets);
            return connection;
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _unbound.CancelAsync().ConfigureAwait(false);
            await inner.UnbindAsync(cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            await _unbound.CancelAsync().ConfigureAwait(false);
            await inner.DisposeAsync().ConfigureAwait(false);
            _unbound.Dispose();
        }
    }
}
