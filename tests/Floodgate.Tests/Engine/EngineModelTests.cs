using CsCheck;
using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Tests.Engine;

/// <summary>
/// The engine against the exact sliding-log model, with random rules, traffic and clock advances. The README's
/// stated bound: a limit is never exceeded in any window-long interval (the engine refuses whenever the exact model
/// does), and the engine accepts whenever the exact model would accept with a window one slot (W/31) longer
/// (exactly: 32 slots of ceil(W/31)). Each counter store runs the same tests through a subclass.
/// </summary>
public abstract class EngineModelTests
{
    private static readonly TimeSpan[] Windows = [TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1)];
    private static readonly LimitAction[] Actions = [LimitAction.Defer, LimitAction.Hold, LimitAction.Reject];
    private static readonly Scope[] Scopes = [Scope.Account, Scope.Sender, Scope.SenderDomain, Scope.ClientIp];
    private static readonly LimitUnit[] Units =
        [LimitUnit.Messages, LimitUnit.Recipients, LimitUnit.Bytes, LimitUnit.UniqueRecipients, LimitUnit.ExternalRecipients, LimitUnit.FailedRecipients];

    // Recipients are drawn from eight addresses, the first three at the local domain.
    private static readonly string[] Addresses =
        [.. Enumerable.Range(0, 8).Select(i => i < 3 ? $"staff{i}@local.example" : $"contact{i}@far{i % 3}.example")];

    private static readonly DomainList Local = new(["local.example"]);

    private static readonly Gen<LimitRule[]> GenRules =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, Units.Length - 1], Gen.Int[0, 25], Gen.Int[0, 3], Gen.Int[0, 2])
            .Array[1, 4]
            .Select(specs => specs.Select((s, i) => new LimitRule($"r{i}", Scopes[s.Item1], Units[s.Item2],
                s.Item3, Windows[s.Item4], Actions[s.Item5])).ToArray());

    // A step: which user (0-7) sends from which client (0-2), to which of the eight addresses (a non-empty set) in how
    // many bytes (0-8,000: up to 8 KiB against bytes limits of 0-25 KiB), how many of them then fail (0-3), after how long.
    private static readonly Gen<(int User, int Client, int Mask, long Size, int Failed, long AdvanceMs)[]> GenTraffic =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, 2], Gen.Int[1, 255], Gen.Long[0, 8_000], Gen.Int[0, 3],
                Gen.Frequency((6, Gen.Long[0, 2_000]), (3, Gen.Long[0, 30_000]), (1, Gen.Long[0, 4_000_000])))
            .Array[1, 300];

    /// <summary>A fresh, empty counter store for one sample's rules.</summary>
    protected abstract Task<ICounterStore> NewStoreAsync(RuleSet rules);

    /// <summary>Samples per test: a store that pays a network round trip per decision runs fewer.</summary>
    protected virtual int Samples(int inMemory) => inMemory;

    [Fact]
    public async Task Engine_MatchesTheExactModelWithinOneSlot()
    {
        await Gen.Select(GenRules, GenTraffic).SampleAsync(async sample =>
        {
            var (rules, traffic) = sample;
            var ruleSet = new RuleSet(rules) { LocalDomains = Local };
            var engine = new DecisionEngine(ruleSet, await NewStoreAsync(ruleSet), new MemoryAccountStore());
            var model = new SlidingLog();
            var now = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero).AddTicks(Random.Shared.NextInt64(TimeSpan.TicksPerHour));
            var counts = new long[rules.Length];
            foreach (var step in traffic)
            {
                now = now.AddMilliseconds(step.AdvanceMs);
                var user = $"user{step.User}@d{step.User % 3}.example";
                var to = Addresses.Where((_, i) => (step.Mask & (1 << i)) != 0).ToList();
                var submission = new Submission(user, user, to.Count, step.Size, $"198.51.100.{step.Client}", now) { Recipients = to };
                var keys = IdentityKeys.Of(submission, ruleSet.Fallback);

                var mustRefuse = Verdict.Accept;
                var mayRefuse = Verdict.Accept;
                foreach (var rule in rules)
                {
                    var key = keys[rule.Scope]!;
                    if (Exceeds(model, rule, key, now, rule.Window, to, step.Size))
                    {
                        mustRefuse = Max(mustRefuse, ruleSet.VerdictOf(rule.Action));
                    }

                    if (Exceeds(model, rule, key, now, Upper(rule), to, step.Size))
                    {
                        mayRefuse = Max(mayRefuse, ruleSet.VerdictOf(rule.Action));
                    }
                }

                var decision = await engine.DecideAsync(submission, DecisionStage.Count, counts);

                if (decision.Verdict < mustRefuse || decision.Verdict > mayRefuse)
                {
                    throw new InvalidOperationException(
                        $"at {now:O} {user} to {string.Join(",", to)}: engine said {decision.Verdict} ({decision.Reason}); the model allows {mustRefuse}..{mayRefuse}");
                }

                var accepted = decision.Verdict == Verdict.Accept;
                foreach (var rule in rules)
                {
                    var key = keys[rule.Scope]!;
                    var exact = After(model, rule, key, now, rule.Window, to, step.Size, accepted);
                    var upper = After(model, rule, key, now, Upper(rule), to, step.Size, accepted);
                    if (counts[rule.Index] < exact || counts[rule.Index] > upper)
                    {
                        throw new InvalidOperationException($"rule {rule.Name} ({rule.UnitText}) count {counts[rule.Index]} outside [{exact}, {upper}]");
                    }
                }

                if (accepted)
                {
                    foreach (var rule in rules)
                    {
                        var key = keys[rule.Scope]!;
                        if (rule.Unit == LimitUnit.UniqueRecipients)
                        {
                            model.AddAddresses(rule, key, now, to);
                        }
                        else
                        {
                            model.Add(rule, key, now, rule.Unit == LimitUnit.FailedRecipients ? step.Failed : UnitsOf(rule, to, step.Size));
                        }
                    }

                    // Its bounces come back at once, and count against the next message.
                    await engine.CountFailedAsync(submission, step.Failed);
                }
            }
        }, iter: Samples(400));
    }

    // The units the model counts for a message (unique recipients are counted by address in the model's log).
    private static long UnitsOf(LimitRule rule, List<string> to, long size) => rule.Unit switch
    {
        LimitUnit.ExternalRecipients => to.Count(a => !Local.IsLocal(a)),
        _ => rule.UnitsOf(to.Count, size),
    };

    // Whether the message passes the limit when the window is this long: a failed-recipients limit once the failures
    // reach it, a unique-recipients one when the addresses of the window and the message together exceed it.
    private static bool Exceeds(SlidingLog model, LimitRule rule, string key, DateTimeOffset now, TimeSpan window, List<string> to, long size) =>
        rule.Unit switch
        {
            LimitUnit.FailedRecipients => model.CountIn(rule, key, now, window) >= rule.Max,
            LimitUnit.UniqueRecipients => model.DistinctIn(rule, key, now, window, to) > rule.Max,
            _ => model.CountIn(rule, key, now, window) + UnitsOf(rule, to, size) > rule.Max,
        };

    // The count the engine reports after the decision, as the model has it for a window this long.
    private static long After(SlidingLog model, LimitRule rule, string key, DateTimeOffset now, TimeSpan window, List<string> to, long size, bool accepted) =>
        rule.Unit switch
        {
            LimitUnit.FailedRecipients => model.CountIn(rule, key, now, window),
            LimitUnit.UniqueRecipients => model.DistinctIn(rule, key, now, window, accepted ? to : []),
            _ => model.CountIn(rule, key, now, window) + (accepted ? UnitsOf(rule, to, size) : 0),
        };

    [Fact]
    public async Task Engine_NeverLetsMoreThanMaxThroughInAnyWindow()
    {
        // The safety half on its own, checked over the whole history: any window-long interval, not only those
        // ending at a decision.
        await Gen.Select(Gen.Int[1, 30], Gen.Int[0, 3], GenTraffic).SampleAsync(async sample =>
        {
            var (max, w, traffic) = sample;
            var rule = new LimitRule("only", Scope.Account, LimitUnit.Recipients, max, Windows[w], LimitAction.Defer);
            var ruleSet = new RuleSet([rule]);
            var engine = new DecisionEngine(ruleSet, await NewStoreAsync(ruleSet), new MemoryAccountStore());
            var now = DateTimeOffset.UnixEpoch.AddDays(20_000);
            var accepted = new List<(long Ticks, int Units)>();
            foreach (var step in traffic)
            {
                now = now.AddMilliseconds(step.AdvanceMs);
                var recipients = System.Numerics.BitOperations.PopCount((uint)step.Mask);
                var d = await engine.DecideAsync(new Submission("u@example.com", "u@example.com", recipients, 0, null, now), DecisionStage.Count);
                if (d.Verdict == Verdict.Accept)
                {
                    accepted.Add((now.UtcTicks, recipients));
                }
            }

            foreach (var (start, _) in accepted)
            {
                var inWindow = accepted.Where(a => a.Ticks >= start && a.Ticks < start + rule.Window.Ticks).Sum(a => a.Units);
                if (inWindow > max)
                {
                    throw new InvalidOperationException($"{inWindow} recipients within {rule.Window} from {start}, limit {max}");
                }
            }
        }, iter: Samples(300));
    }

    // The longest interval the engine's count can cover: the 31 full slots of the window plus the current one.
    private static TimeSpan Upper(LimitRule rule) => TimeSpan.FromTicks(rule.SlotTicks * SlidingWindow.Slots);

    private static Verdict Max(Verdict a, Verdict b) => a > b ? a : b;
}
