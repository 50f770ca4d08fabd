using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsGateway.Baseline;

/// <summary>
/// The baseline the gateway is measured against: what one would write with the framework's WebSocket support.
/// Kestrel, <c>app.UseWebSockets()</c>, <c>AcceptWebSocketAsync()</c>, then a
/// <c>ReceiveAsync(Memory&lt;byte&gt;)</c> loop over one reused buffer per connection that checks and counts SBE
/// trades the way the gateway's processor does (8-byte header peek; a batch is several trades back to back, each
/// header compared with the first) and, in echo mode, sends every message back.
/// </summary>
/// <remarks>
/// Counting is per connection, in a plain field (no interlocked operation per message); <see cref="Messages"/>
/// adds the live connections' fields to the total of the closed ones.
/// </remarks>
public sealed class BaselineServer : IAsyncDisposable
{
    private const int HeaderLength = 8;
    private const ushort TradeBlockLength = 21;
    private const ulong TradeIdentity = TradeBlockLength | (1UL << 16) | (1UL << 32); // block length 21, template 1, schema 1
    private const ulong IdentityMask = 0x0000_FFFF_FFFF_FFFF;
    private const int InitialBufferSize = 4096;
    private const int MaxMessageSize = 1024 * 1024;

    private readonly WebApplication _app;
    private readonly bool _echo;
    private readonly Lock _lock = new();
    private readonly HashSet<ConnectionCounter> _live = [];
    private long _closedMessages;
    private long _closedErrors;

    private BaselineServer(WebApplication app, bool echo)
    {
        _app = app;
        _echo = echo;
    }

    /// <summary>The address the server listens on, with the real port when 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>Trades received so far, over every connection (live and closed).</summary>
    public long Messages => Total(static c => Volatile.Read(ref c.Messages), messages: true);

    /// <summary>Messages that were not valid trades or batches, over every connection.</summary>
    public long Errors => Total(static c => Volatile.Read(ref c.Errors), messages: false);

    private long Total(Func<ConnectionCounter, long> read, bool messages)
    {
        lock (_lock)
        {
            long total = messages ? _closedMessages : _closedErrors;
            foreach (ConnectionCounter counter in _live)
            {
                total += read(counter);
            }

            return total;
        }
    }

    /// <summary>WebSocket connections open now.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Starts a baseline server.</summary>
    /// <param name="endPoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="echo">Send every message back (latency runs) instead of only counting it.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<BaselineServer> StartAsync(IPEndPoint endPoint, bool echo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<SocketTransportOptions>(o => o.NoDelay = true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endPoint);
        });

        WebApplication app = builder.Build();
        var server = new BaselineServer(app, echo);
        app.UseWebSockets();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        string first = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.LocalEndPoint = new IPEndPoint(endPoint.Address, new Uri(first).Port);
        return server;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var counter = new ConnectionCounter();
        lock (_lock)
        {
            _live.Add(counter);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        try
        {
            await ReceiveLoopAsync(socket, counter, buffer, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client vanished; what it sent so far is counted.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            lock (_lock)
            {
                _live.Remove(counter);
                _closedMessages += counter.Messages;
                _closedErrors += counter.Errors;
            }
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, ConnectionCounter counter, byte[] buffer, CancellationToken cancellationToken)
    {
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxMessageSize)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, null, cancellationToken).ConfigureAwait(false);
                    return;
                }

                byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
                return;
            }

            length += result.Count;
            if (!result.EndOfMessage)
            {
                continue;
            }

            ReadOnlySpan<byte> message = buffer.AsSpan(0, length);
            if (result.MessageType == WebSocketMessageType.Binary && CountTrades(message) is > 0 and int trades)
            {
                counter.Messages += trades;
            }
            else
            {
                counter.Errors++;
            }

            if (_echo)
            {
                await socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }

            length = 0;
        }
    }

    /// <summary>The gateway processor's checks: a header with the Trade identity, a length that is a whole number
    /// of messages, and every message of a batch carrying the first one's header. Returns 0 when invalid.</summary>
    private static int CountTrades(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength)
        {
            return 0;
        }

        ulong header = BinaryPrimitives.ReadUInt64LittleEndian(message);
        int blockLength = (ushort)header;
        if ((header & IdentityMask & ~0xFFFFUL) != (TradeIdentity & ~0xFFFFUL) || blockLength < TradeBlockLength)
        {
            return 0;
        }

        int messageSize = HeaderLength + blockLength;
        int count = Math.DivRem(message.Length, messageSize, out int rest);
        if (count == 0 || rest != 0)
        {
            return 0;
        }

        for (int offset = messageSize; offset < message.Length; offset += messageSize)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(message.Slice(offset)) != header)
            {
                return 0;
            }
        }

        return count;
    }

    private sealed class ConnectionCounter
    {
        public long Messages;
        public long Errors;
    }
}
