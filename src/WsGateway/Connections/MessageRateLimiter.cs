namespace WsGateway.Connections;

/// <summary>
/// The token bucket of <see cref="TradeGatewayOptions.MessageRateLimit"/> for one connection: refilled from each
/// read's timestamp, one token taken per message. Used only by the thread that reads the connection, so it takes no
/// lock. Made only for a connection that has a limit.
/// </summary>
internal sealed class MessageRateLimiter
{
    private readonly MessageRateLimit _limit;
    private readonly double _frequency;
    private double _tokens;
    private long _refilledAt;

    public MessageRateLimiter(MessageRateLimit limit, long now, double timestampFrequency)
    {
        _limit = limit;
        _frequency = timestampFrequency;
        _tokens = limit.Burst;
        _refilledAt = now;
    }

    /// <summary>The limit.</summary>
    public MessageRateLimit Limit => _limit;

    /// <summary>Adds the tokens earned since the last refill, up to the burst.</summary>
    public void Refill(long now)
    {
        double elapsed = (now - _refilledAt) / _frequency;
        _refilledAt = now;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_limit.Burst, _tokens + (elapsed * _limit.MessagesPerSecond));
        }
    }

    /// <summary>Takes one message's token.</summary>
    public bool TryTake()
    {
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }

        return false;
    }

    /// <summary>How long until the bucket holds a token again (at least a millisecond).</summary>
    public TimeSpan TimeToNextToken
        => TimeSpan.FromSeconds(Math.Max(0.001, (1 - _tokens) / _limit.MessagesPerSecond));
}
