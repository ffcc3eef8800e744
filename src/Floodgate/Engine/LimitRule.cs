namespace Floodgate.Engine;

/// <summary>At most <see cref="Max"/> units of <see cref="Unit"/> per <see cref="Scope"/> identity in any <see cref="Window"/>-long interval.</summary>
public sealed class LimitRule
{
    /// <summary>Slots a window is split into; counts are exact to one slot (see <see cref="SlidingWindow"/>).</summary>
    public const int SlotsPerWindow = SlidingWindow.Slots - 1;

    private readonly Dictionary<string, long> _overrides;
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _overrideLookup;
    private volatile EnforcementMode _mode;

    public LimitRule(string name, Scope scope, LimitUnit unit, long max, TimeSpan window, LimitAction action,
        IReadOnlyDictionary<string, long>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromSeconds(1));
        Name = name;
        Scope = scope;
        Unit = unit;
        Max = max;
        Window = window;
        Action = action;
        SlotTicks = (window.Ticks + SlotsPerWindow - 1) / SlotsPerWindow;
        WindowText = Durations.Format(window);
        UnitText = ScopeNames.Of(unit);
        _overrides = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in overrides ?? new Dictionary<string, long>())
        {
            _overrides[IdentityNormalizer.Normalize(key)] = value;
        }

        _overrideLookup = _overrides.GetAlternateLookup<ReadOnlySpan<char>>();
        TrackedMax = Math.Max(max, _overrides.Count == 0 ? 0 : _overrides.Values.Max());
    }

    /// <summary>
    /// The largest limit any identity has here (<see cref="Max"/> or an override): a unique-recipients window remembers at
    /// most this many addresses per identity (16 bytes each in memory); past it, an address not remembered counts as new.
    /// </summary>
    public long TrackedMax { get; }

    public string Name { get; }

    public Scope Scope { get; }

    public LimitUnit Unit { get; }

    public long Max { get; }

    public TimeSpan Window { get; }

    public LimitAction Action { get; }

    /// <summary>warn_at: the share of the maximum (0.8 for 80%) at which one warning alert per identity and window is sent; null for none.</summary>
    public double? WarnAt { get; init; }

    /// <summary>alert: true on a defer, hold or reject limit: one alert per identity and window when it first refuses a message.</summary>
    public bool AlertWhenActing { get; init; }

    /// <summary>For a suspend rule: how long the suspension lasts before an automatic release; null = until an admin releases.</summary>
    public TimeSpan? ReleaseAfter { get; init; }

    /// <summary>
    /// This limit's own mode (limits[].mode): observe records its verdicts as "would have" without carrying them out.
    /// A reload may change it while decisions run; the deployment's mode (<see cref="RuleSet.Mode"/>) can only add to it.
    /// </summary>
    public EnforcementMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>The window as configured ("1h"), for texts and log lines.</summary>
    public string WindowText { get; }

    /// <summary>"messages", "recipients", "unique recipients", "external recipients", "failed recipients" or "KiB".</summary>
    public string UnitText { get; }

    /// <summary>Length of one counting slot in ticks: the window divided by <see cref="SlotsPerWindow"/>, rounded up.</summary>
    public long SlotTicks { get; }

    /// <summary>Position of this rule in its rule set (set by <see cref="RuleSet"/>).</summary>
    public int Index { get; internal set; }

    /// <summary>Position of this rule among the rules of its scope (set by <see cref="RuleSet"/>).</summary>
    public int ScopeIndex { get; internal set; }

    public IReadOnlyDictionary<string, long> Overrides => _overrides;

    /// <summary>The limit for one identity: its own override, else its domain's, else <see cref="Max"/>.</summary>
    public long MaxFor(string key)
    {
        if (_overrides.Count == 0)
        {
            return Max;
        }

        if (_overrides.TryGetValue(key, out var max))
        {
            return max;
        }

        var at = key.LastIndexOf('@');
        return at >= 0 && _overrideLookup.TryGetValue(key.AsSpan(at + 1), out max) ? max : Max;
    }

    /// <summary>
    /// Units one message adds to this rule's counter (for bytes: its size in KiB, rounded up; for external recipients
    /// the <paramref name="external"/> count; unique recipients are worked out by the store, failed ones come later).
    /// </summary>
    public long UnitsOf(int recipientCount, long size = 0, int external = 0) => Unit switch
    {
        LimitUnit.Messages => 1,
        LimitUnit.Recipients => Math.Max(recipientCount, 0),
        LimitUnit.ExternalRecipients => Math.Max(external, 0),
        LimitUnit.UniqueRecipients or LimitUnit.FailedRecipients => 0,
        _ => KiBOf(size),
    };

    /// <summary>A size in bytes as the KiB a bytes limit counts: rounded up, so a limit is never passed by a remainder.</summary>
    public static long KiBOf(long bytes) => bytes <= 0 ? 0 : (bytes + 1023) / 1024;

    public override string ToString() =>
        $"{Name} ({ScopeNames.Of(Scope)}, {Max} {UnitText} per {WindowText}, {ScopeNames.Of(Action)}{(Mode == EnforcementMode.Observe ? ", observe only" : "")}"
        + (WarnAt is { } share ? $", warns at {Math.Round(share * 100, 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}%" : "")
        + (AlertWhenActing ? ", alerts when it acts" : "") + ")";
}
