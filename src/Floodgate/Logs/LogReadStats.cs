namespace Floodgate.Logs;

/// <summary>What a log reader made of its input: lines read, lines skipped (they named nothing it uses), messages rebuilt.</summary>
public sealed class LogReadStats
{
    public long Lines { get; set; }

    public long Skipped { get; set; }

    public long Messages { get; set; }
}
