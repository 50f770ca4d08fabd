namespace WsGateway.Connections;

/// <summary>
/// The token bucket of <see cref="TradeGatewayOptions.MessageRateLimit"/> for one connection: refilled from each
/// read's timestamp, one token taken per message. Used only by the thread that reads the connection, so it takes no
/// lock; a struct held in its session's field, empty (and never consulted) without a limit.
/// </summary>
internal struct MessageRateLimiter
{
    private readonly MessageRateLimit? _limit;
    private readonly double _frequency;
    private double _tokens;
    private long _refilledAt;

    public MessageRateLimiter(MessageRateLimit? limit, long now, double timestampFrequency)
    {
        _limit = limit;
        _frequency = timestampFrequency;
        _tokens = limit?.Burst ?? 0;
        _refilledAt = now;
    }

    /// <summary>Whether a limit is set.</summary>
    public readonly bool IsEnabled => _limit is not null;

    /// <summary>The limit (only when <see cref="IsEnabled"/>).</summary>
    public readonly MessageRateLimit Limit => _limit!;

    /// <summary>Adds the tokens earned since the last refill, up to the burst.</summary>
    public void Refill(long now)
    {
        if (_limit is null)
        {
            return;
        }

        double elapsed = (now - _refilledAt) / _frequency;
        _refilledAt = now;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_limit.Burst, _tokens + (elapsed * _limit.MessagesPerSecond));
        }
    }

    /// <summary>Takes one message's token; always true without a limit.</summary>
    public bool TryTake()
    {
        if (_limit is null)
        {
            return true;
        }

        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }

        return false;
    }

    /// <summary>How long until the bucket holds a token again (at least a millisecond).</summary>
    public readonly TimeSpan TimeToNextToken
        => TimeSpan.FromSeconds(Math.Max(0.001, (1 - _tokens) / _limit!.MessagesPerSecond));
}
