using System.Text;

namespace Floodgate.Bench.Load;

/// <summary>
/// Exact enforcement of a fresh per-login message limit: a login that sent n messages must have been accepted exactly
/// min(n, max) times.
/// </summary>
internal sealed record EnforcementCheck
{
    /// <summary>Logins that sent at least one request.</summary>
    public required int Users { get; init; }

    /// <summary>Logins that sent more than max requests, so met the limit.</summary>
    public required int Limited { get; init; }

    /// <summary>Logins accepted more or less often than min(sent, max).</summary>
    public required int Wrong { get; init; }

    /// <summary>The first wrong login, described; null when none is.</summary>
    public string? FirstWrong { get; init; }

    public bool Exact => Wrong == 0;

    public static EnforcementCheck Of(LoadRunResult result, long max, byte[][] logins)
    {
        var wrong = 0;
        string? first = null;
        for (var u = 0; u < result.Sent.Length; u++)
        {
            var expected = Math.Min(result.Sent[u], max);
            if (result.Accepted[u] != expected)
            {
                wrong++;
                first ??= $"{Encoding.UTF8.GetString(logins[u])} sent {result.Sent[u]}, was accepted {result.Accepted[u]} times, expected {expected}";
            }
        }

        return new EnforcementCheck
        {
            Users = result.Sent.Count(s => s > 0),
            Limited = result.Sent.Count(s => s > max),
            Wrong = wrong,
            FirstWrong = first,
        };
    }
}
