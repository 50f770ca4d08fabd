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
internal sealed record ServerStats(long Messages, long Errors, int Connections, long AllocatedBytes, long GcHeapBytes, long WorkingSetBytes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ServerStats))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
