using System.Text.Json.Serialization;

namespace WsGateway.LoadBench;

/// <summary>One answer of a <c>WsGateway.LoadBench server</c> process to <c>stats</c> or <c>gcstats</c>: the server
/// process's own counters.</summary>
/// <param name="Messages">Trades counted since start (or the last <c>reset</c>).</param>
/// <param name="Errors">Messages that were not valid trades.</param>
/// <param name="Connections">WebSocket connections open now.</param>
/// <param name="AllocatedBytes"><c>GC.GetTotalAllocatedBytes(precise: true)</c>.</param>
/// <param name="GcHeapBytes"><c>GC.GetTotalMemory(false)</c> (after a full blocking GC for <c>gcstats</c>).</param>
/// <param name="WorkingSetBytes"><c>Environment.WorkingSet</c>.</param>
/// <param name="Transport">What serves the connections: <c>native, N event loops</c> or <c>kestrel</c> (the
/// transport the started gateway reports, <c>WebSocketServer.Transport</c>) or <c>kestrel+System.Net.WebSockets</c> (the baseline).</param>
/// <param name="Cpus">The CPUs the server process may run on (a <c>taskset -c</c> list), as the process sees it.</param>
/// <param name="ProcessorCount"><c>Environment.ProcessorCount</c> of the server (follows its affinity: the native
/// transport starts one event loop per processor by default).</param>
internal sealed record ServerStats(long Messages, long Errors, int Connections, long AllocatedBytes, long GcHeapBytes, long WorkingSetBytes, string Transport, string Cpus, int ProcessorCount);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ServerStats))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
