using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Tests.Infrastructure;

/// <summary>The gateway's side of one connection, as the pipeline's handler sees it: records the acknowledgements sent
/// and whether receiving is paused.</summary>
internal sealed class RecordingConnection(long id) : IGatewayConnection
{
    private int _paused;

    public long Id => id;

    public EndPoint? RemoteEndPoint => null;

    public EndPoint? LocalEndPoint => null;

    public string Path => "/";

    public ClaimsPrincipal User { get; } = new();

    public ConcurrentQueue<TradeAck> Acks { get; } = new();

    public bool IsReceivingPaused => Volatile.Read(ref _paused) != 0;

    public bool Send(ReadOnlySpan<byte> message) => throw new InvalidOperationException("the pipeline must send from its own thread, with SendAsync");

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        Assert.True(TradeAck.TryDecode(message.Span, out TradeAck ack), "the pipeline sent something that is not a TradeAck");
        Acks.Enqueue(ack);
        return ValueTask.FromResult(true);
    }

    public void Close(ushort code = 1000, string? reason = null)
    {
    }

    public void PauseReceiving() => Volatile.Write(ref _paused, 1);

    public void ResumeReceiving() => Volatile.Write(ref _paused, 0);

    public async Task<TradeAck> WaitForAckAsync(ulong count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!Acks.Any(a => a.Count >= count))
        {
            await Task.Delay(5, timeout.Token);
        }

        return Acks.First(a => a.Count >= count);
    }
}
