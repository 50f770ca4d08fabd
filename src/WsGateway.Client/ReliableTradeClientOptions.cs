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

        return Connection.Validate();
    }
}
