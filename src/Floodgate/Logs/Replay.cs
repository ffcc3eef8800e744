using System.Globalization;
using System.Text.Json;
using Floodgate.Behaviour;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Pipeline;
using Floodgate.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floodgate.Logs;

/// <summary>
/// What Floodgate would have done with a mail server's past traffic: every message of the logs goes through the
/// decision pipeline with the configuration's rules and a clock taken from the log, in memory only (no mail server
/// touched, no alert sent, nothing written to the data directory); per account, the peaks and which limits acted;
/// and suggested limits from the observed peaks.
/// </summary>
public sealed class Replay
{
    /// <summary>The windows every account's peaks are reported for, besides the rules' own.</summary>
    public static readonly TimeSpan[] ReportWindows = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), TimeSpan.FromHours(24)];

    /// <summary>Headroom over the busiest ordinary account's peak in a suggested limit.</summary>
    public const double Headroom = 2.0;

    // Causes are read by people too: "+6.0" and "<alice@example.com>" as they are, not as \u002B escapes (still valid JSON).
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly FloodgateOptions _options;
    private readonly DecisionPipeline _pipeline;
    private readonly EnforcementPoint _point;
    private readonly DecisionScratch _scratch;
    private readonly TimeSpan[] _windows;
    private readonly Dictionary<string, AccountReplay> _accounts = new(StringComparer.Ordinal);
    private readonly BehaviourWatch? _behaviour;
    private readonly List<ProbationEnded> _ended = [];
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    public Replay(FloodgateOptions options)
    {
        _options = options;
        // Replay reports what enforcing would have done, whatever mode the configuration is in (observe included).
        var accounts = new MemoryAccountStore();
        var engine = new DecisionEngine(options.Rules, new MemoryCounterStore(options.Rules), accounts) { IgnoresModes = true };
        _behaviour = options.Behaviour.Enabled ? new BehaviourWatch(options.Behaviour) { Accounts = accounts } : null;
        _pipeline = new DecisionPipeline(engine, options with { FailMode = FailMode.Open }, DecisionLog.Open("none"), NullLogger<DecisionPipeline>.Instance,
            behaviour: _behaviour);
        _point = new EnforcementPoint("replay", new VerdictNames(), options.TrustedNetworks);
        _scratch = _pipeline.NewScratch(_point);
        _windows = [.. ReportWindows.Concat(options.Rules.Rules.Select(r => r.Window)).Distinct().Order()];
    }

    /// <summary>Messages replayed, and inbound mail left out (no login, delivered locally).</summary>
    public long Replayed { get; private set; }

    public long Inbound { get; private set; }

    /// <summary>Messages the server refused itself (never accepted, so never replayed).</summary>
    public long RefusedByServer { get; private set; }

    public IReadOnlyDictionary<string, AccountReplay> Accounts => _accounts;

    /// <summary>Decides one logged message as if it were submitted at its log time; with <paramref name="json"/>, writes its line if it was not accepted.</summary>
    public async Task AddAsync(LoggedMessage message, TextWriter? json)
    {
        if (message.IsInbound)
        {
            Inbound++;
            return;
        }

        // Refused by the server itself (smtpd's "reject:", a policy DEFER among them): nothing was accepted, and a
        // client that retries shows up as a new message.
        if (message.Action == "reject")
        {
            RefusedByServer++;
            return;
        }

        Replayed++;
        var submission = message.ToSubmission();
        await EndProbationsAsync(submission.Time, json);
        var decision = await _pipeline.DecideAsync(_point, submission, DecisionStage.Count, _scratch, "REPLAY");
        var trusted = _point.Trusts(submission.ClientAddress) ? ClientTrust.Trusted : ClientTrust.Untrusted;
        var keys = IdentityKeys.Of(submission with { Trust = trusted }, _options.Rules.Fallback, withDomain: false);
        var name = keys.Account ?? keys.Sender ?? keys.ClientIp ?? "-";
        if (!_accounts.TryGetValue(name, out var account))
        {
            _accounts[name] = account = new AccountReplay(name, new PeakTracker(_windows));
        }

        account.Peaks.Add(submission.Time, submission.RecipientCount, submission.Size);
        if (submission.Account is { } login)
        {
            _names[login] = name;
        }

        if (decision.Behaviour is { Started: true, Suspends: false } probation)
        {
            account.Probations++;
            if (json is not null)
            {
                await json.WriteLineAsync(JsonSerializer.Serialize(new EventLine(Time(submission.Time), name, "probation", probation.Reason), Json));
            }
        }

        if (decision.Verdict == Verdict.Accept)
        {
            // It went out, so its bounces happened: they count against the sender's next message.
            account.Accepted++;
            await _pipeline.CountFailedAsync(_point, submission, message.FailedRecipients);
            return;
        }

        var rule = decision.Rule?.Name ?? decision.Suspension?.Rule ?? (decision.Behaviour is null ? null : DecisionPipeline.BehaviourRule);
        var verdict = ScopeNames.Of(decision.Verdict);
        if (rule is not null && !account.FirstActed.ContainsKey(rule))
        {
            account.FirstActed[rule] = (submission.Time, account.Accepted, verdict);
        }

        account.Refused++;
        if (json is not null)
        {
            await json.WriteLineAsync(JsonSerializer.Serialize(new RefusedLine(Time(submission.Time), name, message.QueueId, verdict,
                Cause(decision), decision.Cause switch
                {
                    DecisionCause.LimitExceeded => decision.Rule?.Name,
                    DecisionCause.Probation or DecisionCause.Behaviour => DecisionPipeline.BehaviourRule,
                    _ => null,
                }), Json));
            if (decision.NewlySuspended)
            {
                await json.WriteLineAsync(JsonSerializer.Serialize(new EventLine(Time(submission.Time), name, "suspended", decision.Suspension!.Reason), Json));
            }
        }

        if (decision.NewlySuspended)
        {
            account.SuspendedAt ??= submission.Time;
        }
    }

    /// <summary>
    /// At the end of the logs: every probation still open ends when it would have by itself had the account sent
    /// nothing more (its held mail released then), with its line in <paramref name="json"/>.
    /// </summary>
    public async Task FinishAsync(TextWriter? json)
    {
        if (_behaviour is null)
        {
            return;
        }

        _ended.Clear();
        _behaviour.EndAll(_ended);
        await WriteEndedAsync(json);
    }

    private async Task EndProbationsAsync(DateTimeOffset now, TextWriter? json)
    {
        if (_behaviour is null || !_behaviour.AnyOnProbation)
        {
            return;
        }

        _ended.Clear();
        _behaviour.EndDue(now, _ended);
        await WriteEndedAsync(json);
    }

    private async Task WriteEndedAsync(TextWriter? json)
    {
        foreach (var ended in _ended.OrderBy(e => e.At))
        {
            var name = _names.GetValueOrDefault(ended.Account, ended.Account);
            if (_accounts.TryGetValue(name, out var account))
            {
                account.ReleasedByProbation += ended.Held;
            }

            if (json is not null)
            {
                await json.WriteLineAsync(JsonSerializer.Serialize(new EventLine(Time(ended.At), name, "probation_ended", ended.Reason), Json));
            }
        }
    }

    /// <summary>The report for people: per account its traffic, peaks and the limits that acted, then suggested limits.</summary>
    public void WriteReport(TextWriter output, LogReadStats stats)
    {
        output.WriteLine($"{stats.Lines} log lines ({stats.Skipped} skipped: they named nothing Floodgate uses), {Replayed} messages replayed, "
            + $"{Inbound} inbound and {RefusedByServer} refused by the server left out");
        output.WriteLine();
        var header = string.Join(" ", ReportWindows.Select(w => $"{Durations.Format(w),9}"));
        output.WriteLine($"{"account",-40} {"messages",8} {"rcpts",8}  peak msgs/rcpts per {header}  limits that acted");
        foreach (var account in _accounts.Values.OrderByDescending(a => a.Peaks.Recipients).ThenBy(a => a.Name, StringComparer.Ordinal))
        {
            var peaks = string.Join(" ", ReportWindows.Select(w => Array.IndexOf(_windows, w)).Select(i => $"{account.Peaks.PeakMessages[i] + "/" + account.Peaks.PeakRecipients[i],9}"));
            var acted = account.FirstActed.Count == 0 ? "-" : string.Join("; ", account.FirstActed.Select(a =>
                $"{a.Key} ({a.Value.Verdict}) at {Time(a.Value.At)} after {a.Value.AcceptedBefore} messages"));
            output.WriteLine($"{Cut(account.Name, 40),-40} {account.Peaks.Messages,8} {account.Peaks.Recipients,8}  {"",20}{peaks}  {acted}");
        }

        output.WriteLine();
        output.WriteLine($"# Suggested limits: {Headroom}x the busiest stretch of the 95th-percentile account in each rule's window;");
        output.WriteLine("# accounts far above that (a newsletter, a notification sender) get an override of their own peak with the same headroom.");
        output.WriteLine("limits:");
        var overrides = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var rule in _options.Rules.Rules)
        {
            var (max, needOverride) = Suggest(rule);
            output.WriteLine($"  - {{ name: {rule.Name}, scope: {ScopeNames.Of(rule.Scope)}, unit: {ConfigUnit(rule)}, max: {ConfigMax(rule, max)}, per: {rule.WindowText}, action: {ScopeNames.Of(rule.Action)} }}"
                + (max == rule.Max ? "" : $"   # configured: {ConfigMax(rule, rule.Max)}"));
            foreach (var (account, peak) in needOverride)
            {
                if (!overrides.TryGetValue(account, out var perRule))
                {
                    overrides[account] = perRule = new SortedDictionary<string, long>(StringComparer.Ordinal);
                }

                perRule[rule.Name] = peak;
            }
        }

        output.WriteLine(overrides.Count == 0 ? "overrides: {}" : "overrides:");
        foreach (var (account, perRule) in overrides)
        {
            output.WriteLine($"  \"{account}\": {{ {string.Join(", ", perRule.Select(p => $"{p.Key}: {ConfigMax(_options.Rules.Rules.First(r => r.Name == p.Key), p.Value)}"))} }}");
        }
    }

    private (long Max, List<(string Account, long Peak)> Overrides) Suggest(LimitRule rule)
    {
        var index = Array.IndexOf(_windows, rule.Window);
        var peaks = _accounts.Values
            .Where(a => a.Name != "-" && !a.Name.EndsWith(IdentityKeys.NoLoginMark, StringComparison.Ordinal))
            .Select(a => (a.Name, Peak: a.Peaks.PeaksOf(rule.Unit)[index]))
            .OrderBy(p => p.Peak)
            .ToList();
        if (peaks.Count == 0)
        {
            return (rule.Max, []);
        }

        var typical = peaks[(int)Math.Ceiling(0.95 * peaks.Count) - 1].Peak;
        var max = Math.Max(1, (long)Math.Ceiling(typical * Headroom));
        var overrides = peaks.Where(p => p.Peak > max).Select(p => (p.Name, (long)Math.Ceiling(p.Peak * Headroom))).ToList();
        return (max, overrides);
    }

    // As floodgate.yml writes them: a bytes limit's unit is "bytes" and its KiB a size.
    private static string ConfigUnit(LimitRule rule) => ScopeNames.ConfigName(rule.Unit);

    private static string ConfigMax(LimitRule rule, long max) => rule.Unit == LimitUnit.Bytes ? $"{max}KiB" : max.ToString(CultureInfo.InvariantCulture);

    private static string Cause(in Decision decision) => decision.Cause switch
    {
        DecisionCause.Suspended => "suspended: " + decision.Suspension!.Reason,
        _ => decision.Reason,
    };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private sealed record RefusedLine(string Time, string Account, string QueueId, string Verdict, string Cause,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Rule);

    private sealed record EventLine(string Time, string Account, string Event, string Cause);
}
