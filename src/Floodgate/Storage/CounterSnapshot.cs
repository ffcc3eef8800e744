using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>One rule's window for one identity as saved to disk: <see cref="SlidingWindow.WriteTo"/> bytes.</summary>
public sealed record CounterSnapshot(Scope Scope, string Key, string Rule, long SlotTicks, byte[] Window);
