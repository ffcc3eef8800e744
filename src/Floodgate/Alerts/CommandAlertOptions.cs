namespace Floodgate.Alerts;

/// <summary>A program run for each alert (no shell), with the incident in its environment and JSON on its stdin.</summary>
public sealed record CommandAlertOptions
{
    /// <summary>The program's absolute path.</summary>
    public required string Run { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>After this long the program and everything it started are killed, and the attempt counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
