using System.Globalization;
using Floodgate.Behaviour;
using Floodgate.Engine;
using YamlDotNet.RepresentationModel;

namespace Floodgate.Configuration;

public sealed partial class ConfigLoader
{
    private static readonly string[] BehaviourKeys = ["enabled", "probation_at", "suspend_at", "probation", "escalate_after", "min_messages", "min_days", "max_accounts", "save_interval"];

    // behaviour: { enabled: true, probation_at: 8, suspend_at: 16, probation: 1h, escalate_after: 4h, min_messages: 20, min_days: 5 }
    // A configuration without the section leaves behaviour off: an existing floodgate.yml keeps deciding as it did.
    private BehaviourOptions ReadBehaviour(YamlMappingNode root)
    {
        if (Section(root, "behaviour") is not { } section)
        {
            return new BehaviourOptions(Enabled: false);
        }

        CheckKeys(section, "behaviour.", BehaviourKeys);
        var defaults = new BehaviourOptions();
        var enabled = Enum(section, "enabled", "behaviour.enabled", ["true", "false"], v => v == "true", true);
        var probationAt = Points(section, "probation_at", defaults.ProbationAt);
        var suspendAt = Points(section, "suspend_at", defaults.SuspendAt);
        if (suspendAt <= probationAt && Scalar(section, "suspend_at", "behaviour.suspend_at") is { } node)
        {
            Error(node, "behaviour.suspend_at", $"must be above probation_at ({probationAt.ToString(CultureInfo.InvariantCulture)}): probation comes first");
        }

        var probation = Duration(section, "probation", defaults.ProbationTime);
        var escalate = Duration(section, "escalate_after", defaults.EscalateTime);
        return new BehaviourOptions(
            enabled,
            probationAt,
            suspendAt,
            probation,
            escalate,
            (int)(Scalar(section, "min_messages", "behaviour.min_messages") is { } m ? ParseCount(m, "behaviour.min_messages", 0, 1_000_000) ?? defaults.MinMessages : defaults.MinMessages),
            (int)(Scalar(section, "min_days", "behaviour.min_days") is { } d ? ParseCount(d, "behaviour.min_days", 0, 365) ?? defaults.MinDays : defaults.MinDays),
            (int)(Scalar(section, "max_accounts", "behaviour.max_accounts") is { } a ? ParseCount(a, "behaviour.max_accounts", 1, 100_000_000) ?? defaults.MaxAccounts : defaults.MaxAccounts),
            Duration(section, "save_interval", defaults.SaveEvery));
    }

    private double Points(YamlMappingNode section, string key, double fallback)
    {
        if (Scalar(section, key, "behaviour." + key) is not { } node)
        {
            return fallback;
        }

        if (double.TryParse(node.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var points) && points is > 0 and <= BehaviourScoreMax)
        {
            return points;
        }

        Error(node, "behaviour." + key, $"'{node.Value}' is not a score from 0 to {BehaviourScoreMax} (the most all signals together can give)");
        return fallback;
    }

    private const double BehaviourScoreMax = BehaviourScore.MaxVolume + BehaviourScore.MaxNewDomains + BehaviourScore.MaxNewAddresses + BehaviourScore.MaxNewNetwork
        + BehaviourScore.MaxOddHour + BehaviourScore.MaxRecipients + BehaviourScore.MaxSenderMismatch + BehaviourScore.MaxFailed;

    private TimeSpan Duration(YamlMappingNode section, string key, TimeSpan fallback)
    {
        if (Scalar(section, key, "behaviour." + key) is not { } node)
        {
            return fallback;
        }

        if (Durations.TryParse(node.Value ?? "", out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }

        Error(node, "behaviour." + key, $"'{node.Value}' is not a duration (10m, 1h, 4h)");
        return fallback;
    }
}
