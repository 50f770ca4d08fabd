using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary>
/// One connection of <c>wsgw send</c>: a sender that writes this connection's share of the trades and then asks to
/// close with 1000, and a receiver that runs at the same time and reads everything the server sends back (echoes
/// counted and, with <c>--verify</c>, compared with what was sent; pings answered by the client; the server's close
/// honoured). Reading concurrently is what keeps an echoing server from stalling: unread replies would fill both
/// sides' socket buffers.
/// </summary>
/// <remarks>
/// Counts are exact: a trade is counted as sent only once the flush that carried it to the socket has completed, so
/// what a server stopped half-way counted (it delivers what arrives until this side answers its close) matches.
/// Memory is bounded: nothing that was sent is kept; <c>--verify</c> regenerates the expected trades from their
/// sequence numbers.
/// </remarks>
internal sealed class SendConnection(TradeClient client, int index, long first, long count, SendCommand.SendPlan plan, Trade[]? fromFile, EchoMismatchLog? verify)
{
    private readonly CancellationTokenSource _stop = new();

    // Written by the sender, read by the progress display.
    private long _tradesSent;
    private int _closeRequested;
    private string? _sendFailure;

    // Written by the receiver; read once both loops are over (except _framesReceived, watched while waiting).
    private long _framesReceived;
    private long _tradesReceived;
    private long _framesDiffering;
    private bool _closeReceived;
    private ushort _serverCloseCode;
    private string? _serverCloseReason;
    private bool _closedByServerFirst;
    private string? _receiveFailure;
    private bool _droppedBySend;

    /// <summary>Trades handed to the socket (flushed successfully).</summary>
    public long TradesSent => Volatile.Read(ref _tradesSent);

    /// <summary>Trades of this connection's share that never reached the socket.</summary>
    public long TradesUnsent => count - TradesSent;

    /// <summary>Data frames handed to the socket.</summary>
    public long FramesSent => client.MessagesSent;

    /// <summary>Bytes handed to the socket, control frames included.</summary>
    public long BytesSent => client.BytesSent;

    public long FramesReceived => Volatile.Read(ref _framesReceived);

    public long TradesReceived => _tradesReceived;

    /// <summary>With --verify: echoed frames that were not what was sent.</summary>
    public long FramesDiffering => _framesDiffering;

    /// <summary>Whether the connection ended as asked: every trade sent, then a close with 1000 that send started and
    /// the server answered with 1000.</summary>
    public bool Succeeded => _closeReceived && !_closedByServerFirst && _serverCloseCode == 1000 && TradesUnsent == 0;

    /// <summary>How the connection ended, for the summary's "closes": <c>1000</c> when as asked; otherwise the code,
    /// who closed and why.</summary>
    public string CloseDescription
    {
        get
        {
            if (_closeReceived)
            {
                string reason = string.IsNullOrEmpty(_serverCloseReason) ? string.Empty : $" \"{_serverCloseReason}\"";
                return _serverCloseCode != 1000 ? string.Create(CultureInfo.InvariantCulture, $"{_serverCloseCode} from the server{reason}")
                    : _closedByServerFirst ? $"1000 from the server before send finished{reason}"
                    : "1000";
            }

            // No close frame from the server: the client failed the connection (1002, 1007, 1009) or it was lost (1006).
            ushort code = client.CloseStatus ?? 1006;
            string why = _receiveFailure ?? _sendFailure ?? "the connection ended without a close frame";
            string what = code != 1006 ? "closed by send" : _droppedBySend ? "dropped by send" : "connection lost";
            return string.Create(CultureInfo.InvariantCulture, $"{code} {what} ({why.TrimEnd('.')})");
        }
    }

    /// <summary>Sends, receives, closes. Never throws for what the server or the network does: the outcome is in the
    /// properties.</summary>
    public async Task RunAsync(TimeSpan closeTimeout, CancellationToken cancellationToken)
    {
        Task receiving = Task.Run(() => ReceiveAsync(cancellationToken), CancellationToken.None);
        await SendAsync(cancellationToken).ConfigureAwait(false);

        // Wait for the server's close (echoes may still be arriving): give up only when nothing came for a whole
        // close timeout, or on Ctrl+C.
        long seen = -1;
        while (!receiving.IsCompleted)
        {
            long now = FramesReceived;
            if (now == seen || cancellationToken.IsCancellationRequested)
            {
                _receiveFailure ??= cancellationToken.IsCancellationRequested
                    ? "interrupted"
                    : string.Create(CultureInfo.InvariantCulture, $"the server did not close the connection within {closeTimeout.TotalSeconds:0.###} s of send's close");
                _droppedBySend = true;
                await client.DisposeAsync().ConfigureAwait(false);
                break;
            }

            seen = now;
            await Task.WhenAny(receiving, Task.Delay(closeTimeout, cancellationToken)).ConfigureAwait(false);
        }

        await receiving.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested || (!_closeReceived && Volatile.Read(ref _closeRequested) == 0))
        {
            // Interrupted, or the connection failed before send asked to close: drop it. A CloseAsync here would
            // flush what is still buffered, trades the counts already call unsent.
            _droppedBySend |= cancellationToken.IsCancellationRequested;
            await client.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            try
            {
                // The closing handshake is done: wait for the server's TCP close, release.
                await client.CloseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                _receiveFailure ??= ex.Message;
            }
        }

        _stop.Dispose();
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        int batch = plan.Batch;
        double rate = plan.Rate / plan.Connections;
        Trade[] frame = new Trade[batch];
        long startTicks = Stopwatch.GetTimestamp();
        long done = 0;
        long buffered = 0;
        using var pacing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            while (done < count)
            {
                if (_stop.IsCancellationRequested)
                {
                    return; // the server closed or the connection failed: what is not flushed stays unsent
                }

                int n = (int)Math.Min(batch, count - done);
                bool written;
                if (plan.Messages is { } messages)
                {
                    written = client.TryWriteRaw(messages.Frame(first + done, n)); // --schema: n messages as they are
                }
                else
                {
                    for (int k = 0; k < n; k++)
                    {
                        frame[k] = TradeAt(done + k);
                    }

                    written = n == 1 ? client.TryWriteTrade(frame[0]) : client.TryWriteTrades(frame.AsSpan(0, n));
                }

                if (!written)
                {
                    await FlushAsync(buffered, cancellationToken).ConfigureAwait(false);
                    buffered = 0;
                    continue;
                }

                done += n;
                buffered += n;
                if (rate > 0)
                {
                    // Pace against the clock: sleep until trade `done` is due.
                    await FlushAsync(buffered, cancellationToken).ConfigureAwait(false);
                    buffered = 0;
                    TimeSpan due = TimeSpan.FromSeconds(done / rate) - Stopwatch.GetElapsedTime(startTicks);
                    if (due > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(due, pacing.Token).ConfigureAwait(false);
                    }
                }
            }

            await FlushAsync(buffered, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _closeRequested, 1);
            await client.CloseOutputAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.InvalidState)
        {
            // The server's close arrived and was answered: no more frames may be sent.
        }
        catch (WebSocketException ex)
        {
            _sendFailure = ex.Message;
        }
        catch (ObjectDisposedException)
        {
            _sendFailure = "the connection was dropped";
        }
        catch (OperationCanceledException)
        {
            _sendFailure = cancellationToken.IsCancellationRequested ? "interrupted" : null;
        }
    }

    private async ValueTask FlushAsync(long buffered, CancellationToken cancellationToken)
    {
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _tradesSent, _tradesSent + buffered);
    }

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                ClientMessage message = await client.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (message.IsClose)
                {
                    _closedByServerFirst = Volatile.Read(ref _closeRequested) == 0;
                    _serverCloseCode = message.CloseStatus;
                    _serverCloseReason = message.CloseReason;
                    _closeReceived = true;
                    return;
                }

                if (message.MessageType == WebSocketMessageType.Binary)
                {
                    if (verify is not null)
                    {
                        Verify(message.Payload.Span, _framesReceived);
                    }

                    _tradesReceived += message.Payload.Length / Trade.EncodedSize;
                }

                Volatile.Write(ref _framesReceived, _framesReceived + 1);
            }
        }
        catch (WebSocketException ex)
        {
            _receiveFailure ??= ex.Message;
        }
        catch (ObjectDisposedException)
        {
            _receiveFailure ??= "the connection was dropped";
        }
        catch (OperationCanceledException)
        {
            _receiveFailure ??= "interrupted";
        }
        finally
        {
            // Stops the sender: after the server's close nothing more may be sent; after a failure nothing can be.
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>This connection's trade number <paramref name="i"/> (from 0): regenerated, or from the file.</summary>
    private Trade TradeAt(long i) => fromFile is null ? SendCommand.Generate(plan.FirstId, first + i) : fromFile[first + i];

    /// <summary>Compares echoed frame <paramref name="frameIndex"/> (from 0) with what was sent as that frame: frames
    /// hold <c>--batch</c> trades each, the last one the rest, so frame j holds trades j*batch and on.</summary>
    private void Verify(ReadOnlySpan<byte> payload, long frameIndex)
    {
        long firstTrade = frameIndex * plan.Batch;
        long expectedTrades = Math.Min(plan.Batch, count - firstTrade);
        string? problem = null;
        if (expectedTrades <= 0)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex + 1} came back, but only {(count + plan.Batch - 1) / plan.Batch} frames were sent");
        }
        else if (plan.Messages is { } messages)
        {
            problem = messages.Compare(payload, first + firstTrade, (int)expectedTrades, frameIndex + 1);
        }
        else if (payload.Length != expectedTrades * Trade.EncodedSize)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex + 1} came back with {payload.Length} bytes, sent with {expectedTrades} trades ({expectedTrades * Trade.EncodedSize} bytes)");
        }
        else
        {
            Span<byte> expected = stackalloc byte[Trade.EncodedSize];
            for (int k = 0; k < expectedTrades; k++)
            {
                Trade sent = TradeAt(firstTrade + k);
                sent.Encode(expected);
                ReadOnlySpan<byte> echoed = payload.Slice(k * Trade.EncodedSize, Trade.EncodedSize);
                if (!echoed.SequenceEqual(expected))
                {
                    string got = Trade.TryDecode(echoed, out Trade decoded) ? decoded.ToString() : Convert.ToHexString(echoed);
                    problem = string.Create(CultureInfo.InvariantCulture, $"frame {frameIndex + 1}, trade {firstTrade + k + 1}: sent {sent}, came back {got}");
                    break;
                }
            }
        }

        if (problem is not null)
        {
            _framesDiffering++;
            verify!.Report(index, problem);
        }
    }
}

/// <summary>Where <c>--verify</c> reports echoed frames that differ from what was sent: the first few on standard
/// error as they are found, all of them counted.</summary>
internal sealed class EchoMismatchLog(TextWriter errors, int maxLines = 10)
{
    private readonly Lock _lock = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Report(int connection, string problem)
    {
        lock (_lock)
        {
            if (++_count <= maxLines)
            {
                errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wsgw send: --verify: connection {connection}: {problem}"));
            }
        }
    }
}
