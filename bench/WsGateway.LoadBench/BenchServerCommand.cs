using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Runtime;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsGateway.Baseline;
using WsGateway.Handlers;
using WsGateway.Sinks;

namespace WsGateway.LoadBench;

/// <summary>
/// <c>WsGateway.LoadBench server</c> (hidden): the server side of the load benchmark, in its own process so that its
/// allocation and memory figures are its own. Prints <c>READY &lt;port&gt;</c>, then answers one-line commands on
/// standard input: <c>stats</c> and <c>gcstats</c> (one JSON line, <see cref="ServerStats"/>; <c>gcstats</c>
/// forces a full compacting GC first), <c>reset</c> (zero the message counters), <c>quit</c>.
/// </summary>
internal static class BenchServerCommand
{
    public const string Name = "server";

    public static Command Create()
    {
        Option<string> kind = new("--kind")
        {
            Description = "Which server: gateway (WsGateway, native transport), gateway-kestrel (WsGateway on Kestrel's socket transport) or baseline (Kestrel + System.Net.WebSockets)",
            DefaultValueFactory = _ => ServerKinds.Gateway,
        };
        kind.AcceptOnlyFromAmong(ServerKinds.All);
        Option<string> listen = new("--listen")
        {
            Description = "Address to listen on (loopback, port 0 picks one)",
            DefaultValueFactory = _ => "127.0.0.1:0",
        };
        Option<string> mode = new("--mode")
        {
            Description = "count (count trades) or echo (send every frame back)",
            DefaultValueFactory = _ => "count",
        };
        mode.AcceptOnlyFromAmong("count", "echo");
        Option<bool> allocProfile = new("--alloc-profile")
        {
            Description = "Sample allocations by type (GCAllocationTick events); the allocs command prints the top types",
        };

        Option<string?> sink = new("--sink")
        {
            Description = "Also store every trade through a SinkPipeline into this sink, acknowledging it to the client (the sinks benchmark); a wsgw serve --sink URI",
        };

        Command command = new(Name, "Server process of the load benchmark; commands on stdin: stats, gcstats, reset, allocs, quit")
        {
            kind, listen, mode, allocProfile, sink,
        };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            bool echo = result.GetValue(mode) == "echo";
            using AllocationSampler? sampler = result.GetValue(allocProfile) ? new AllocationSampler() : null;
            string address = result.GetValue(listen)!;
            string cpus = CpuAffinity.Current();
            Server server = result.GetValue(kind) switch
            {
                ServerKinds.Baseline => await StartBaselineAsync(address, echo, cancellationToken).ConfigureAwait(false),
                _ when result.GetValue(sink) is { } sinkUri => await StartGatewayWithSinkAsync(address, sinkUri, cancellationToken).ConfigureAwait(false),
                ServerKinds.GatewayKestrel => await StartGatewayAsync(address, echo, GatewayTransport.Kestrel, cancellationToken).ConfigureAwait(false),
                _ => await StartGatewayAsync(address, echo, GatewayTransport.Native, cancellationToken).ConfigureAwait(false),
            };
            await using (server.ConfigureAwait(false))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {server.Port}"));
                long messageOffset = 0;
                long errorOffset = 0;
                while (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    switch (line.Trim())
                    {
                        case "stats":
                        case "gcstats":
                            bool collect = line.Trim() == "gcstats";
                            if (collect)
                            {
                                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                                GC.WaitForPendingFinalizers();
                                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                            }

                            long allocated = GC.GetTotalAllocatedBytes(precise: true);
                            (long messages, long errors) = server.Counts();
                            var stats = new ServerStats(messages - messageOffset, errors - errorOffset, server.Connections(), allocated, GC.GetTotalMemory(false), Environment.WorkingSet, server.Transport, cpus, Environment.ProcessorCount);
                            Console.WriteLine(JsonSerializer.Serialize(stats, BenchJsonContext.Default.ServerStats).ReplaceLineEndings(string.Empty));
                            break;
                        case "reset":
                            (messageOffset, errorOffset) = server.Counts();
                            Console.WriteLine("OK");
                            break;
                        case "allocs":
                            Console.WriteLine(sampler?.Top(8) ?? "(start with --alloc-profile)");
                            sampler?.Clear();
                            break;
                        case "quit":
                            return 0;
                        default:
                            Console.WriteLine("ERROR unknown command");
                            break;
                    }
                }
            }

            return 0;
        });
        return command;
    }

    private static async Task<Server> StartGatewayAsync(string listen, bool echo, GatewayTransport transport, CancellationToken cancellationToken)
    {
        var counters = new TradeCounters();
        var options = new TradeGatewayOptions { MaxConnections = 20_000, Transport = transport };
        WebSocketServer gateway = echo
            ? new WebSocketServer(listen, _ => new EchoHandler(), options)
            : new WebSocketServer(listen, _ => new CountingHandler(counters), options);
        await gateway.StartAsync(cancellationToken).ConfigureAwait(false);
        return new Server(gateway.LocalEndPoint!.Port, Describe(gateway), counters.Read, () => gateway.ConnectionCount, gateway.DisposeAsync);
    }

    /// <summary>The transport the started gateway says it runs on (not the one asked for).</summary>
    private static string Describe(WebSocketServer gateway) => gateway.Transport == GatewayTransport.Native
        ? string.Create(CultureInfo.InvariantCulture, $"native, {gateway.EventLoopCount} event loop{(gateway.EventLoopCount == 1 ? string.Empty : "s")}")
        : gateway.Transport.ToString().ToLowerInvariant();

    /// <summary>The gateway counting trades and handing them to a sink (a <c>wsgw serve --sink</c> URI), which
    /// acknowledges them.</summary>
    private static async Task<Server> StartGatewayWithSinkAsync(string listen, string sinkUri, CancellationToken cancellationToken)
    {
        var counters = new TradeCounters();
        // Warnings to standard error (standard output carries the benchmark's protocol): a failing sink says why.
        ILoggerFactory logs = LoggerFactory.Create(b => b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        SinkFactory.Register(new WsGateway.Sinks.Kafka.KafkaSinkScheme()); // the bench server carries the Kafka sink
        SinkPipeline pipeline = SinkFactory.Plan(sinkUri).Start(logs, new Meter("WsGateway.LoadBench"));
        var gateway = new WebSocketServer(listen, _ => pipeline.CreateHandler(new CountingHandler(counters)), new TradeGatewayOptions { MaxConnections = 20_000 });
        await gateway.StartAsync(cancellationToken).ConfigureAwait(false);
        return new Server(gateway.LocalEndPoint!.Port, Describe(gateway), counters.Read, () => gateway.ConnectionCount, async () =>
        {
            await gateway.DisposeAsync().ConfigureAwait(false);
            await pipeline.DisposeAsync().ConfigureAwait(false);
            logs.Dispose();
        });
    }

    private static async Task<Server> StartBaselineAsync(string listen, bool echo, CancellationToken cancellationToken)
    {
        var endPoint = IPEndPoint.Parse(listen);
        BaselineServer baseline = await BaselineServer.StartAsync(endPoint, echo, cancellationToken).ConfigureAwait(false);
        return new Server(baseline.LocalEndPoint.Port, "kestrel+System.Net.WebSockets", () => (baseline.Messages, baseline.Errors), () => baseline.ConnectionCount, baseline.DisposeAsync);
    }

    private sealed class Server(int port, string transport, Func<(long Messages, long Errors)> counts, Func<int> connections, Func<ValueTask> dispose) : IAsyncDisposable
    {
        public int Port => port;

        public string Transport => transport;

        public (long Messages, long Errors) Counts() => counts();

        public int Connections() => connections();

        public ValueTask DisposeAsync() => dispose();
    }
}
