namespace Floodgate.Engine;

/// <summary>A rule's counter at one moment: <paramref name="Count"/> of <paramref name="Max"/> per <paramref name="Window"/>.</summary>
public sealed record CounterValue(string Rule, string Unit, long Count, long Max, string Window);
