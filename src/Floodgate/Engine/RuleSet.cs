namespace Floodgate.Engine;

/// <summary>Everything the engine decides by: limit rules, exemptions, the identity fallback and the suspended verdict.</summary>
public sealed class RuleSet
{
    private readonly HashSet<string> _exempt;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _exemptLookup;
    private readonly int[] _rulesPerScope = new int[4];
    private volatile EnforcementMode _mode;

    public RuleSet(IReadOnlyList<LimitRule> rules, FallbackIdentity fallback = FallbackIdentity.Sender,
        Verdict suspendedVerdict = Verdict.Hold, IEnumerable<string>? exempt = null)
    {
        if (suspendedVerdict == Verdict.Accept)
        {
            throw new ArgumentException("A suspended account cannot be answered accept.", nameof(suspendedVerdict));
        }

        Rules = rules;
        Fallback = fallback;
        SuspendedVerdict = suspendedVerdict;
        for (var i = 0; i < rules.Count; i++)
        {
            rules[i].Index = i;
            rules[i].ScopeIndex = _rulesPerScope[(int)rules[i].Scope]++;
        }

        foreach (var rule in rules)
        {
            UsesUniqueRecipients |= rule.Unit == LimitUnit.UniqueRecipients;
            UsesExternalRecipients |= rule.Unit == LimitUnit.ExternalRecipients;
            UsesFailedRecipients |= rule.Unit == LimitUnit.FailedRecipients;
        }

        _exempt = new HashSet<string>((exempt ?? []).Select(e => IdentityNormalizer.Normalize(e)), StringComparer.Ordinal);
        _exemptLookup = _exempt.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<LimitRule> Rules { get; }

    /// <summary>
    /// The most recipients one message may have (max_recipients_per_message), per account with its overrides; null
    /// when unlimited. A limit whose window is one message: over it the message is rejected and counted nowhere.
    /// </summary>
    public LimitRule? RecipientCap { get; init; }

    /// <summary>The domains whose recipients are not external (local_domains); empty: every recipient is external.</summary>
    public DomainList LocalDomains { get; init; } = DomainList.Empty;

    /// <summary>True when a rule counts unique recipients (the engine then hashes each message's addresses).</summary>
    public bool UsesUniqueRecipients { get; }

    /// <summary>True when a rule counts external recipients.</summary>
    public bool UsesExternalRecipients { get; }

    /// <summary>True when a rule counts failed recipients (enforcement points then report outcomes).</summary>
    public bool UsesFailedRecipients { get; }

    /// <summary>True when a rule needs each message's recipient addresses (unique or external recipients).</summary>
    public bool NeedsAddresses => UsesUniqueRecipients || UsesExternalRecipients;

    public FallbackIdentity Fallback { get; }

    public Verdict SuspendedVerdict { get; }

    public IReadOnlyCollection<string> Exempt => _exempt;

    /// <summary>
    /// The deployment's mode (the top-level mode:): observe makes every limit and every suspension observe only. A
    /// reload may change it while decisions run.
    /// </summary>
    public EnforcementMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>True when <paramref name="rule"/>'s verdicts are only recorded: the deployment or the limit observes.</summary>
    public bool Observes(LimitRule rule) => _mode == EnforcementMode.Observe || rule.Mode == EnforcementMode.Observe;

    /// <summary>The limits whose verdicts are only recorded now.</summary>
    public IEnumerable<LimitRule> Observed => Rules.Where(Observes);

    /// <summary>How many rules count by <paramref name="scope"/>.</summary>
    public int RulesIn(Scope scope) => _rulesPerScope[(int)scope];

    /// <summary>True when the account, or its domain, is listed as exempt from every limit.</summary>
    public bool IsExempt(string? account)
    {
        if (account is null || _exempt.Count == 0)
        {
            return false;
        }

        if (_exempt.Contains(account))
        {
            return true;
        }

        var at = account.LastIndexOf('@');
        return at >= 0 && _exemptLookup.Contains(account.AsSpan(at + 1));
    }

    /// <summary>The verdict a limit action stands for.</summary>
    public Verdict VerdictOf(LimitAction action) => action switch
    {
        LimitAction.Defer => Verdict.Defer,
        LimitAction.Hold => Verdict.Hold,
        LimitAction.Reject => Verdict.Reject,
        _ => SuspendedVerdict,
    };
}
