namespace Floodgate.Engine;

/// <summary>Window counters: memory here, Redis for a cluster.</summary>
public interface ICounterStore
{
    /// <summary>
    /// One atomic check-and-count: writes each charge's current count into <paramref name="counts"/> and, when every
    /// charge fits within its max and <paramref name="commit"/> is set, adds all the units. Returns whether all fit.
    /// </summary>
    ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit);
}
