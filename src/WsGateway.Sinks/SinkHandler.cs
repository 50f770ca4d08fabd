namespace WsGateway.Sinks;

/// <summary>
/// The per-connection handler of a <see cref="SinkPipeline"/>: copies each read's trades into one batch (a copy, since
/// the receive buffer is reused) and hands it to the pipeline at <see cref="OnReadComplete"/>, on the receive thread,
/// without waiting. Every callback is also passed on to an inner handler when there is one (statistics, say).
/// </summary>
internal sealed class SinkHandler : IReadCompletionHandler
{
    private readonly SinkPipeline _pipeline;
    private readonly ITradeMessageHandler? _inner;
    private SinkConnection? _connection;
    private SinkBatch? _batch;

    public SinkHandler(SinkPipeline pipeline, ITradeMessageHandler? inner)
    {
        _pipeline = pipeline;
        _inner = inner;
    }

    public void OnConnect(IGatewayConnection connection)
    {
        _connection = new SinkConnection(connection, _pipeline.Sink.CountsDuplicates);
        if (_inner is Handlers.StatsHandler stats)
        {
            stats.SessionDetail = SessionDetail; // the closing line says what the sink stored of this connection
        }

        _inner?.OnConnect(connection);
    }

    public void OnTrade(ReadOnlySpan<byte> data)
    {
        Append(data, data.Length);
        _inner?.OnTrade(data);
    }

    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        Append(data[..(data.Length - (data.Length % messageSize))], messageSize);
        _inner?.OnTrades(data, messageSize);
    }

    public void OnReadComplete()
    {
        Submit();
        (_inner as IReadCompletionHandler)?.OnReadComplete();
    }

    public void OnError(WsError error) => _inner?.OnError(error);

    public void OnDisconnect(WebSocketCloseInfo close)
    {
        // Trades accepted before the end are stored all the same (the client, unacknowledged, resends them too).
        Submit();
        if (_connection is not null)
        {
            _pipeline.Disconnected(_connection);
        }

        _inner?.OnDisconnect(close);
    }

    /// <summary>For the session line: e.g. <c>sink: 1000 stored, 200 duplicates</c>; "so far" when trades of the
    /// connection are still on their way to the sink.</summary>
    private string SessionDetail()
    {
        SinkConnection connection = _connection!;
        (ulong stored, ulong duplicates) = connection.AcknowledgedPrefix;
        string sofar = stored < connection.Received ? " so far" : string.Empty;
        string dups = connection.CountsDuplicates
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{duplicates} duplicates")
            : "duplicates unknown";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"sink: {stored} stored{sofar}, {dups}");
    }

    private void Append(ReadOnlySpan<byte> messages, int messageSize)
    {
        if (_batch is not null && _batch.MessageSize != messageSize)
        {
            Submit(); // a batch holds messages of one size (a newer schema version's trades are longer)
        }

        _batch ??= _pipeline.RentBatch(_connection!, messageSize);
        _batch.Append(messages);
    }

    private void Submit()
    {
        if (_batch is { } batch)
        {
            _batch = null;
            _pipeline.Submit(batch);
        }
    }
}
