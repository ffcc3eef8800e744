using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// One rule's window for one identity as saved to disk: <see cref="SlidingWindow.WriteTo"/> bytes, and the journal LSN
/// of the identity's last change they include.
/// </summary>
public sealed record CounterSnapshot(Scope Scope, string Key, string Rule, long SlotTicks, byte[] Window, long Lsn = 0);
