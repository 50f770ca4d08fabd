using WsGateway.Sbe;

namespace WsGateway.Sinks;

/// <summary>
/// What the pipeline keeps per connection: the numbering of its batches (receive thread only), the acknowledged prefix
/// (publishing threads, under a lock never taken by the receive thread), the acknowledgement sender, and whether the
/// pipeline paused it.
/// </summary>
internal sealed class SinkConnection
{
    private readonly Lock _ackLock = new();
    private readonly Dictionary<long, (ulong EndCount, ulong LastTradeId, int Duplicates)> _storedAhead = [];
    private readonly byte[] _ackBuffer = new byte[TradeAck.EncodedSize];
    private long _nextToAcknowledge;
    private ulong _acknowledged;
    private ulong _acknowledgedLastId;
    private ulong _acknowledgedDuplicates;
    private ulong _sent;
    private int _sending;

    public SinkConnection(IGatewayConnection connection, bool countsDuplicates)
    {
        Gateway = connection;
        CountsDuplicates = countsDuplicates;
    }

    public IGatewayConnection Gateway { get; }

    /// <summary>Whether the sink tells duplicates; when not, acknowledgements say "unknown".</summary>
    public bool CountsDuplicates { get; }

    /// <summary>The acknowledged prefix: trades of this connection stored, counted from its first, and how many of
    /// them the sink held already.</summary>
    public (ulong Stored, ulong Duplicates) AcknowledgedPrefix
    {
        get
        {
            lock (_ackLock)
            {
                return (_acknowledged, _acknowledgedDuplicates);
            }
        }
    }

    // Receive thread only.
    public long NextSequence { get; set; }

    public ulong Received { get; set; }

    // Under the pipeline's pause lock.
    public bool Paused { get; set; }

    /// <summary>Records a stored batch; true when the acknowledged prefix grew (an acknowledgement is due).</summary>
    public bool Stored(SinkBatch batch)
    {
        lock (_ackLock)
        {
            if (batch.Sequence != _nextToAcknowledge)
            {
                _storedAhead[batch.Sequence] = (batch.EndCount, batch.LastTradeId, batch.Duplicates);
                return false;
            }

            _acknowledged = batch.EndCount;
            _acknowledgedLastId = batch.LastTradeId;
            _acknowledgedDuplicates += (ulong)batch.Duplicates;
            _nextToAcknowledge++;
            while (_storedAhead.Remove(_nextToAcknowledge, out (ulong EndCount, ulong LastTradeId, int Duplicates) next))
            {
                _acknowledged = next.EndCount;
                _acknowledgedLastId = next.LastTradeId;
                _acknowledgedDuplicates += (ulong)next.Duplicates;
                _nextToAcknowledge++;
            }

            return true;
        }
    }

    /// <summary>Sends the latest acknowledgement unless a send is already under way (which then sends it): at most
    /// one send per connection at a time, and acknowledgements that pile up meanwhile coalesce into the newest.</summary>
    public void ScheduleAcknowledgement(SinkPipeline pipeline)
    {
        if (Interlocked.Exchange(ref _sending, 1) == 0)
        {
            _ = SendAcknowledgementsAsync(pipeline);
        }
    }

    private async Task SendAcknowledgementsAsync(SinkPipeline pipeline)
    {
        while (true)
        {
            TradeAck ack;
            lock (_ackLock)
            {
                ack = new TradeAck(_acknowledgedLastId, _acknowledged, CountsDuplicates ? _acknowledgedDuplicates : null);
            }

            if (ack.Count > _sent)
            {
                ack.Encode(_ackBuffer);
                try
                {
                    if (await Gateway.SendAsync(_ackBuffer).ConfigureAwait(false))
                    {
                        pipeline.AcknowledgementSent();
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    pipeline.AcknowledgementFailed(this, e);
                }

                _sent = ack.Count;
            }

            Volatile.Write(ref _sending, 0);
            lock (_ackLock)
            {
                if (_acknowledged <= _sent)
                {
                    return;
                }
            }

            if (Interlocked.Exchange(ref _sending, 1) != 0)
            {
                return; // another completion took over
            }
        }
    }
}
