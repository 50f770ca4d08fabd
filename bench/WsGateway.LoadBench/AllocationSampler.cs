using System.Diagnostics.Tracing;

namespace WsGateway.LoadBench;

/// <summary>
/// In-process allocation sampling for <c>WsGateway.LoadBench server --alloc-profile</c>: listens to the runtime's
/// <c>GCAllocationTick</c> events (one per ~100 KB allocated, naming the type of the allocation that crossed the
/// threshold) and keeps a count per type. The types with the most ticks are where the bytes go.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _ticks = [];

    public string Top(int count)
    {
        lock (_lock)
        {
            return string.Join("; ", _ticks.OrderByDescending(p => p.Value).Take(count).Select(p => $"{p.Key} x{p.Value}"));
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _ticks.Clear();
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
        {
            return;
        }

        int index = eventData.PayloadNames.IndexOf("TypeName");
        string type = index >= 0 ? eventData.Payload?[index] as string ?? "?" : "?";
        lock (_lock)
        {
            _ticks[type] = _ticks.GetValueOrDefault(type) + 1;
        }
    }
}
