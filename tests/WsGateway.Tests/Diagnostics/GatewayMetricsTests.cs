using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WsGateway.Diagnostics;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Diagnostics;

public sealed class GatewayMetricsTests
{
    [Fact]
    public async Task Connections_messages_trades_bytes_and_errors_are_counted()
    {
        using var metrics = new GatewayMetrics();
        using var active = new MetricCollector<long>(metrics.Meter, "wsgateway.connections.active");
        using var opened = new MetricCollector<long>(metrics.Meter, "wsgateway.connections.opened");
        using var messages = new MetricCollector<long>(metrics.Meter, "wsgateway.messages.received");
        using var trades = new MetricCollector<long>(metrics.Meter, "wsgateway.trades.received");
        using var bytes = new MetricCollector<long>(metrics.Meter, "wsgateway.bytes.received");
        using var decodeErrors = new MetricCollector<long>(metrics.Meter, "wsgateway.decode.errors");
        using var protocolErrors = new MetricCollector<long>(metrics.Meter, "wsgateway.protocol.errors");
        var handler = new RecordingHandler();
        using var manager = InMemoryConnection.CreateManager(_ => handler, metrics: metrics);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: false);

        byte[] parsed = Concat(BinaryFrame(Trade(1)), BinaryFrame(Trades(2, 4)), BinaryFrame(Trade(9)[..20]));
        await connection.SendAsync(Concat(parsed, Frame(Binary, Trade(10), rsv: 4)));
        await connection.ReadAllFramesAsync();
        await connection.WaitClosedAsync();

        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(1, opened.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(3, messages.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(5, trades.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(parsed.Length, bytes.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, decodeErrors.GetMeasurementSnapshot().Sum(m => m.Value));
        CollectedMeasurement<long> protocol = Assert.Single(protocolErrors.GetMeasurementSnapshot());
        Assert.Equal(1002, protocol.Tags["websocket.close_code"]);
    }

    [Fact]
    public async Task Refused_handshakes_are_counted_by_status_code()
    {
        using var metrics = new GatewayMetrics();
        using var rejected = new MetricCollector<long>(metrics.Meter, "wsgateway.connections.rejected");
        var handler = new RecordingHandler();
        using var manager = InMemoryConnection.CreateManager(_ => handler, metrics: metrics);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: true);

        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        await connection.ReadHttpResponseAsync();
        await connection.WaitClosedAsync();

        CollectedMeasurement<long> m = Assert.Single(rejected.GetMeasurementSnapshot());
        Assert.Equal(426, m.Tags["http.response.status_code"]);
    }
}
