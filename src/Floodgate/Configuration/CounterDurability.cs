namespace Floodgate.Configuration;

/// <summary>How the embedded store's window counters survive a crash.</summary>
public enum CounterDurability
{
    /// <summary>Every counted decision is in the fsynced counter journal before its answer: a kill -9 forgets nothing.</summary>
    Journal,

    /// <summary>Counters are saved every snapshot interval only: a kill -9 forgets up to one interval of counting.</summary>
    Snapshot,
}
