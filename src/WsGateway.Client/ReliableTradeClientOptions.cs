namespace WsGateway.Client;

/// <summary>Options of a <see cref="ReliableTradeClient"/>.</summary>
public sealed class ReliableTradeClientOptions
{
    /// <summary>Options of each WebSocket connection (headers, TLS, timeouts).</summary>
    public TradeClientOptions Connection { get; set; } = new();

    /// <summary>Trades kept until the gateway acknowledges them, at most: the resend buffer (33 bytes a trade).
    /// <see cref="ReliableTradeClient.SendAsync(ReadOnlyMemory{WsGateway.Sbe.Trade}, CancellationToken)"/> waits for
    /// acknowledgements when it is full, so a client never holds more. Default 1,000,000 (32 MB).</summary>
    public int MaxUnacknowledged { get; set; } = 1_000_000;

    /// <summary>Trades per WebSocket message when a send or a resend carries many. Default 1024 (29.7 KB frames).</summary>
    public int MaxTradesPerFrame { get; set; } = 1024;

    /// <summary>Other gateways of the same deployment (storing into the same engine), tried in turn after the one
    /// given to <see cref="ReliableTradeClient.ConnectAsync(Uri, ReliableTradeClientOptions?, CancellationToken)"/> when
    /// <see cref="ReliableTradeClient.FailOverAsync(CancellationToken)"/> looks for a gateway. Empty (the default) behind a load
    /// balancer: its one URL is tried again, and the balancer picks a live gateway.</summary>
    public IList<Uri> FailoverUrls { get; init; } = [];

    /// <summary>The first wait of <see cref="ReliableTradeClient.FailOverAsync(CancellationToken)"/> before it tries again, doubled after
    /// each failed attempt up to <see cref="MaxReconnectDelay"/>. Every wait is drawn at random between zero and that
    /// bound ("full jitter"), so that thousands of clients of a gateway that died do not reconnect in the same
    /// instant. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The bound of the wait between two attempts of <see cref="ReliableTradeClient.FailOverAsync(CancellationToken)"/>.
    /// Default 5 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the options, returning the first problem found or <see langword="null"/>.</summary>
    /// <returns>A sentence naming the option, its value and what is expected, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (Connection is null)
        {
            return "Connection must be set";
        }

        if (MaxUnacknowledged < 1)
        {
            return $"MaxUnacknowledged must be at least 1, got {MaxUnacknowledged}";
        }

        if (MaxTradesPerFrame < 1 || MaxTradesPerFrame > MaxUnacknowledged)
        {
            return $"MaxTradesPerFrame must be between 1 and MaxUnacknowledged ({MaxUnacknowledged}), got {MaxTradesPerFrame}";
        }

        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            return $"ReconnectDelay must be positive and MaxReconnectDelay at least as long, got {ReconnectDelay} and {MaxReconnectDelay}";
        }

        if (FailoverUrls is null)
        {
            return "FailoverUrls must be set (empty for none)";
        }

        foreach (Uri url in FailoverUrls)
        {
            if (url is null || !url.IsAbsoluteUri || url.Scheme is not ("ws" or "wss"))
            {
                return $"FailoverUrls must hold absolute ws:// or wss:// URLs, got {url}";
            }
        }

        return Connection.Validate();
    }
}
