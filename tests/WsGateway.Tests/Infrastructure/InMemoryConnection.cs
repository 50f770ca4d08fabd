using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WsGateway.Connections;

namespace WsGateway.Tests.Infrastructure;

/// <summary>
/// A gateway connection over an in-memory pipe pair: the test plays the client, writing raw bytes and reading the
/// server's frames, with no socket in between.
/// </summary>
public sealed class InMemoryConnection : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private readonly Pipe _toServer;
    private readonly Pipe _toClient;
    private ReadOnlySequence<byte> _pending = ReadOnlySequence<byte>.Empty;
    private bool _pendingHeld;
    private ReadResult _last;

    private readonly bool _ownsManager;

    private InMemoryConnection(ITradeMessageHandler handler, TradeGatewayOptions? options, TimeProvider? time, bool handshake, PipeOptions? pipeOptions, ConnectionManager? manager = null, IPEndPoint? remote = null)
    {
        Handler = handler;
        pipeOptions ??= new PipeOptions(useSynchronizationContext: false);
        _toServer = new Pipe(pipeOptions);
        _toClient = new Pipe(pipeOptions);
        _ownsManager = manager is null;
        Manager = manager ?? CreateManager(_ => handler, options, time ?? new FakeTimeProvider(DateTimeOffset.UnixEpoch));
        Time = Manager.TimeProvider;
        Connection = new WebSocketConnection(new DuplexPipe(_toServer.Reader, _toClient.Writer), Manager, remote ?? new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 9001));
        Running = handshake ? Connection.RunAsync() : Connection.RunUpgradedAsync("/trades", null);
    }

    public ITradeMessageHandler Handler { get; }

    public TimeProvider Time { get; }

    internal ConnectionManager Manager { get; }

    internal WebSocketConnection Connection { get; }

    /// <summary>The connection's task: completes when the server has closed its side.</summary>
    public Task Running { get; }

    /// <summary>Starts a connection already past its handshake (as in ASP.NET Core hosting).</summary>
    public static InMemoryConnection Open(ITradeMessageHandler handler, TradeGatewayOptions? options = null, TimeProvider? time = null, PipeOptions? pipeOptions = null)
        => new(handler, options, time, handshake: false, pipeOptions);

    /// <summary>A connection manager shared by several in-memory connections (connection limit, shutdown tests).</summary>
    internal static ConnectionManager CreateManager(Func<IGatewayConnection, ITradeMessageHandler> factory, TradeGatewayOptions? options = null, TimeProvider? time = null, WsGateway.Diagnostics.GatewayMetrics? metrics = null)
        => new(options ?? new TradeGatewayOptions(), factory, time ?? new FakeTimeProvider(DateTimeOffset.UnixEpoch), NullLoggerFactory.Instance, metrics);

    /// <summary>Starts a connection on an existing manager.</summary>
    internal static InMemoryConnection Open(ConnectionManager manager, ITradeMessageHandler handler, bool handshake)
        => new(handler, null, null, handshake, null, manager);

    /// <summary>Starts a connection on an existing manager, from a given client address (per-address limits).</summary>
    internal static InMemoryConnection Open(ConnectionManager manager, ITradeMessageHandler handler, bool handshake, IPEndPoint remote, PipeOptions? pipeOptions = null)
        => new(handler, null, null, handshake, pipeOptions, manager, remote);

    /// <summary>Starts a raw connection that expects the HTTP upgrade request first (standalone hosting).</summary>
    public static InMemoryConnection Raw(ITradeMessageHandler handler, TradeGatewayOptions? options = null, TimeProvider? time = null)
        => new(handler, options, time, handshake: true, null);

    public async Task SendAsync(byte[] bytes, int chunk = 0)
    {
        if (chunk <= 0 || chunk >= bytes.Length)
        {
            await _toServer.Writer.WriteAsync(bytes);
            return;
        }

        for (int offset = 0; offset < bytes.Length; offset += chunk)
        {
            await _toServer.Writer.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
        }
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    /// <summary>The client closes its sending side (TCP FIN, or vanishing).</summary>
    public Task CompleteClientAsync() => _toServer.Writer.CompleteAsync().AsTask();

    /// <summary>Reads the next frame the server sent; null when the server closed the connection first.</summary>
    public async Task<ServerFrame?> ReadFrameAsync()
    {
        while (true)
        {
            if (!_pending.IsEmpty && ServerFrame.TryParse(ref _pending, out ServerFrame? frame))
            {
                return frame;
            }

            if (_pendingHeld && _last.IsCompleted)
            {
                return null;
            }

            if (_pendingHeld)
            {
                _toClient.Reader.AdvanceTo(_pending.Start, _pending.End);
            }

            _last = await _toClient.Reader.ReadAsync().AsTask().WaitAsync(s_wait);
            _pending = _last.Buffer;
            _pendingHeld = true;
        }
    }

    /// <summary>Reads everything the server sends until it closes the connection. Like a real client, once the
    /// server's close frame has arrived the client finishes sending (<paramref name="sending"/>) and closes its side.</summary>
    public async Task<List<ServerFrame>> ReadAllFramesAsync(Task? sending = null)
    {
        List<ServerFrame> frames = [];
        while (await ReadFrameAsync() is { } frame)
        {
            frames.Add(frame);
            if (frame.Opcode == ClientFrames.Close)
            {
                if (sending is not null)
                {
                    await sending;
                }

                await CompleteClientAsync();
            }
        }

        return frames;
    }

    /// <summary>Reads raw text the server sent until it closed (for handshake responses).</summary>
    public async Task<string> ReadHttpResponseAsync()
    {
        while (true)
        {
            ReadResult result = await _toClient.Reader.ReadAsync().AsTask().WaitAsync(s_wait);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition? end = FindHeaderEnd(buffer);
            if (end is { } e)
            {
                // Keep the body for error responses: read until the server closes.
                if (!result.IsCompleted && !Encoding.ASCII.GetString(buffer.Slice(0, e).ToArray()).StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                {
                    _toClient.Reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                string text = Encoding.UTF8.GetString(result.IsCompleted ? buffer.ToArray() : buffer.Slice(0, e).ToArray());
                _toClient.Reader.AdvanceTo(result.IsCompleted ? buffer.End : e);
                return text;
            }

            if (result.IsCompleted)
            {
                string text = Encoding.UTF8.GetString(buffer.ToArray());
                _toClient.Reader.AdvanceTo(buffer.End);
                return text;
            }

            _toClient.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static SequencePosition? FindHeaderEnd(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: true) ? reader.Position : null;
    }

    public async Task WaitClosedAsync() => await Running.WaitAsync(s_wait);

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        try
        {
            await Running.WaitAsync(s_wait);
        }
        finally
        {
            if (_ownsManager)
            {
                Manager.Dispose();
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
