using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using WsGateway.Sbe;
using WsGateway.Testing;

namespace WsGateway.LoadBench.Sinks;

/// <summary>NATS JetStream: a <c>nats-server -js</c> started here (single node, file storage, temp folder) or the
/// server or cluster given; the baseline is NATS.Net's asynchronous publisher, as <c>nats bench js pub --async</c>.</summary>
internal sealed class NatsEngine : ISinkEngine
{
    /// <summary>Publishes the asynchronous publisher keeps in flight, as <c>nats bench js pub --async</c> does.</summary>
    public const int PublisherInFlight = 4_000;

    private readonly NatsServerProcess[] _own;
    private readonly int _replicas;

    private NatsEngine(string url, NatsServerProcess[] own, int replicas, string server)
    {
        Url = url;
        _own = own;
        _replicas = replicas;
        Server = server;
    }

    public string Name => "nats";

    public string Url { get; }

    /// <summary>The single server started here, when there is one (the outage measurement stops it).</summary>
    public NatsServerProcess? Own => _own.Length == 1 ? _own[0] : null;

    public string Server { get; }

    public string Baseline => $"NATS.Net async publisher, {PublisherInFlight:N0} in flight on one connection, Msg-Id per message";

    /// <summary>Uses <paramref name="url"/> (streams with <paramref name="replicas"/> replicas), or starts
    /// <c>nats-server -js</c> here: one node for R1, a cluster of as many nodes as replicas otherwise.</summary>
    public static async Task<NatsEngine> StartAsync(string? url, int replicas, CancellationToken cancellationToken)
    {
        if (url is not null)
        {
            return new NatsEngine(url, [], replicas, $"JetStream at {url}, R{replicas}, file storage");
        }

        if (replicas == 1)
        {
            NatsServerProcess own = NatsServerProcess.Start();
            return new NatsEngine(own.Url, [own], 1, "nats-server (started here), single node, R1, file storage");
        }

        NatsServerProcess[] cluster = NatsServerProcess.StartCluster(replicas);
        var engine = new NatsEngine(string.Join(',', cluster.Select(n => n.Url)), cluster, replicas, $"nats-server cluster of {replicas} nodes (started here, one host), R{replicas}, file storage");
        await engine.WaitForJetStreamAsync(cancellationToken).ConfigureAwait(false);
        return engine;
    }

    public string SinkUri(string destination, string query)
    {
        string hosts = string.Join(',', Url.Split(',').Select(u => u[(u.IndexOf("://", StringComparison.Ordinal) + 3)..]));
        return $"nats://{hosts}?stream={destination}&subject={destination.ToLowerInvariant()}&replicas={_replicas}{(query.Length > 0 ? "&" + query : string.Empty)}";
    }

    /// <summary>Publishes 29-byte trades to a file-storage stream with a <c>Nats-Msg-Id</c> each (as the sink does),
    /// keeping <see cref="PublisherInFlight"/> in flight on one connection, acks matched on the connection's one reply
    /// inbox as the sink does: acknowledged messages per second over the measured window.</summary>
    public async Task<double> BaselineAsync(string destination, SinkBenchSettings settings, CancellationToken cancellationToken)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = Url, Name = "sinks-baseline", RequestReplyMode = NatsRequestReplyMode.Direct });
        NatsJSContext js = await CreateStreamAsync(nats, destination, cancellationToken).ConfigureAwait(false);
        string subject = destination.ToLowerInvariant();
        var ring = new ValueTask<PubAckResponse>[PublisherInFlight];
        var payload = new byte[Trade.EncodedSize];
        long published = 0;
        long acknowledged = 0;
        long measuredFrom = -1;
        var clock = Stopwatch.StartNew();
        TimeSpan warmUp = TimeSpan.FromSeconds(1);
        TimeSpan end = warmUp + TimeSpan.FromSeconds(settings.Duration);
        while (clock.Elapsed < end)
        {
            int slot = (int)(published % PublisherInFlight);
            if (published >= PublisherInFlight)
            {
                (await ring[slot].ConfigureAwait(false)).EnsureSuccess();
                acknowledged++;
            }

            if (measuredFrom < 0 && clock.Elapsed >= warmUp)
            {
                measuredFrom = acknowledged;
                clock.Restart();
                end = TimeSpan.FromSeconds(settings.Duration);
            }

            ulong id = (ulong)published + 1;
            new Trade(id, (byte)'B', 100.5, 10).Encode(payload);
            ring[slot] = js.PublishAsync(subject, (byte[])payload.Clone(), opts: new NatsJSPubOpts { MsgId = id.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken);
            published++;
        }

        double rate = (acknowledged - measuredFrom) / clock.Elapsed.TotalSeconds;
        for (long i = Math.Max(0, published - PublisherInFlight); i < published; i++)
        {
            await ring[(int)(i % PublisherInFlight)].ConfigureAwait(false);
        }

        return rate;
    }

    /// <summary>One publish with a Msg-Id at a time, each awaiting its ack: the bare JetStream round trip.</summary>
    public async Task BaselineRoundTripAsync(string destination, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = Url, Name = "sinks-baseline-rtt", RequestReplyMode = NatsRequestReplyMode.Direct });
        NatsJSContext js = await CreateStreamAsync(nats, destination, cancellationToken).ConfigureAwait(false);
        string subject = destination.ToLowerInvariant();
        var payload = new byte[Trade.EncodedSize];
        for (int i = 1; i <= recorder.Capacity + 100; i++)
        {
            new Trade((ulong)i, (byte)'L', 1.5, 1).Encode(payload);
            long started = Stopwatch.GetTimestamp();
            (await js.PublishAsync(subject, payload, opts: new NatsJSPubOpts { MsgId = i.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();
            if (i > 100)
            {
                recorder.Record(Stopwatch.GetTimestamp() - started);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (NatsServerProcess node in _own)
        {
            node.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Waits (up to 30 s) until the cluster's JetStream answers: it has elected its meta leader.</summary>
    private async Task WaitForJetStreamAsync(CancellationToken cancellationToken)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = Url, Name = "sinks-ready" });
        var js = new NatsJSContext(nats);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await js.GetAccountInfoAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is NatsException && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<NatsJSContext> CreateStreamAsync(NatsConnection nats, string stream, CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(nats);
        await js.CreateStreamAsync(new StreamConfig(stream, [stream.ToLowerInvariant()]) { Storage = StreamConfigStorage.File, NumReplicas = _replicas }, cancellationToken).ConfigureAwait(false);
        return js;
    }
}
