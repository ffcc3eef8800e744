using Floodgate.Alerts;
using Floodgate.Engine;

namespace Floodgate.Incidents;

/// <summary>
/// Alerts before and as a limit acts, on nothing else: a limit with <c>warn_at</c> alerts once per identity and window
/// when its counter reaches that share of its maximum (nothing is blocked yet); a defer, hold or reject limit with
/// <c>alert: true</c> alerts once per identity and window when it first refuses a message. Both go through the
/// alert channels like the other alerts, event "warning".
/// </summary>
public sealed partial class LimitWarnings(RuleSet rules, AlertDispatcher alerts, TimeProvider time, ILogger<LimitWarnings> logger)
{
    /// <summary>Warnings remembered at once (each until its window ends); past this, new ones are dropped and logged.</summary>
    public const int MaxRemembered = 10_000;

    private readonly bool _any = rules.Rules.Any(r => r.WarnAt is not null || r.AlertWhenActing);
    private readonly Dictionary<(string Rule, Identity Identity, bool Acting), DateTimeOffset> _sent = [];

    /// <summary>Looks at one decision and its counters after it (one per rule, -1 where a rule did not apply).</summary>
    public void Observe(in Submission submission, in Decision decision, ReadOnlySpan<long> counts)
    {
        if (!_any)
        {
            return;
        }

        if (decision.Cause == DecisionCause.LimitExceeded && decision.Rule is { AlertWhenActing: true } acting && decision.Identity is { } refused)
        {
            Send(acting, refused, acting: true, submission, $"{refused} reached limit {acting.Name}: its mail is now {Done(decision.Verdict)}",
                $"{refused} has used {decision.Count} of {decision.Max} {acting.UnitText} per {acting.WindowText} of limit {acting.Name}, and the next "
                + $"message would add {decision.Units}: its mail is {Done(decision.Verdict)} until the window has room. "
                + "This limit does not suspend; it is reported once per window.");
        }

        if (decision.Verdict != Verdict.Accept)
        {
            return;
        }

        IdentityKeys? keys = null;
        // By index: a foreach over the rule list would box its enumerator on every decision.
        for (var r = 0; r < rules.Rules.Count; r++)
        {
            var rule = rules.Rules[r];
            if (rule.WarnAt is not { } share || rule.Index >= counts.Length || counts[rule.Index] <= 0)
            {
                continue;
            }

            // Most decisions are far below the share: without overrides that is known before the identity is worked out.
            if (rule.Overrides.Count == 0 && counts[rule.Index] < Math.Ceiling(share * rule.Max))
            {
                continue;
            }

            keys ??= IdentityKeys.Of(submission, rules.Fallback, rules.RulesIn(Scope.SenderDomain) > 0);
            if (keys.Value[rule.Scope] is not { } key)
            {
                continue;
            }

            var max = rule.MaxFor(key);
            if (counts[rule.Index] < Math.Ceiling(share * max))
            {
                continue;
            }

            var identity = new Identity(rule.Scope, key);
            var percent = max == 0 ? 100 : 100 * counts[rule.Index] / max;
            Send(rule, identity, acting: false, submission, $"warning: {identity} at {percent}% of limit {rule.Name}",
                $"{identity} has used {counts[rule.Index]} of {max} {rule.UnitText} per {rule.WindowText} of limit {rule.Name} ({percent}%, "
                + $"warn_at {share:P0}); nothing is blocked yet. At the limit its mail is "
                + (rule.Action == LimitAction.Suspend ? "held and the identity suspended (an incident opens)" : Done(rules.VerdictOf(rule.Action)))
                + ". This warning is sent once per window.");
        }
    }

    private static string Done(Verdict verdict) => verdict switch
    {
        Verdict.Defer => "deferred",
        Verdict.Hold => "held",
        _ => "rejected",
    };

    private void Send(LimitRule rule, Identity identity, bool acting, in Submission submission, string subject, string text)
    {
        var now = time.GetUtcNow();
        lock (_sent)
        {
            if (_sent.TryGetValue((rule.Name, identity, acting), out var until) && until > now)
            {
                return;
            }

            if (_sent.Count >= MaxRemembered)
            {
                foreach (var stale in _sent.Where(s => s.Value <= now).Select(s => s.Key).ToList())
                {
                    _sent.Remove(stale);
                }

                if (_sent.Count >= MaxRemembered)
                {
                    LogDropped(identity.ToString(), rule.Name);
                    return;
                }
            }

            _sent[(rule.Name, identity, acting)] = now + rule.Window;
        }

        var evidence = $"\n\nLast message: sender {submission.Sender ?? "-"}, client {submission.ClientAddress ?? "-"}, {submission.RecipientCount} recipients"
            + (submission.HasLogin ? "." : "; no login was involved.");
        LogWarned(identity.ToString(), rule.Name, subject);
        alerts.Warn(subject, text + evidence);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WARNING {Identity} by limit {Rule}: {Subject}")]
    private partial void LogWarned(string identity, string rule, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "warning for {Identity} by limit {Rule} not sent: too many warnings remembered at once")]
    private partial void LogDropped(string identity, string rule);
}
