using System.Diagnostics.Tracing;

namespace Floodgate.Bench.Load;

/// <summary>
/// Where a run's allocations go, by type: the runtime's GC AllocationTick events (one each time about 100 KB more has
/// been allocated, naming the type of the object that crossed the mark), summed by type. A sample, not a count, but
/// over a run of many thousand requests the big allocators stand out.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly Dictionary<string, long> _bytes = [];
    private readonly Lock _gate = new();
    private bool _on;

    public void Start()
    {
        lock (_gate)
        {
            _bytes.Clear();
            _on = true;
        }
    }

    /// <summary>Stops sampling and gives the <paramref name="top"/> types with their share of the sampled bytes.</summary>
    public List<(string Type, long Bytes, double Share)> Stop(int top)
    {
        lock (_gate)
        {
            _on = false;
            var total = Math.Max(1, _bytes.Values.Sum());
            return [.. _bytes.OrderByDescending(b => b.Value).Take(top).Select(b => (b.Key, b.Value, (double)b.Value / total))];
        }
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null || e.Payload is null)
        {
            return;
        }

        var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        lock (_gate)
        {
            if (_on)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}
