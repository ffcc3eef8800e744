using Floodgate.Alerts;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Relay;

namespace Floodgate.Configuration;

/// <summary>The whole validated configuration of one Floodgate process.</summary>
public sealed record FloodgateOptions
{
    public required IReadOnlyList<ListenEndpoint> PolicyEndpoints { get; init; }

    public required RuleSet Rules { get; init; }

    public FailMode FailMode { get; init; } = FailMode.Open;

    /// <summary>
    /// Policy clients whose mail without a login counts by <c>identity.fallback</c> as an account (webmail on
    /// localhost); mail without a login from anywhere else is never an account (like Postfix's mynetworks).
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedNetworks { get; init; } = [System.Net.IPNetwork.Parse("127.0.0.0/8"), System.Net.IPNetwork.Parse("::1/128")];

    /// <summary>Where the SQLite database (suspensions, counter snapshots) and other state live; a full path.</summary>
    public string DataDirectory { get; init; } = Path.GetFullPath("data");

    /// <summary>The admin HTTP API's endpoint.</summary>
    public ListenEndpoint AdminEndpoint { get; init; } = new(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8025), null);

    /// <summary>The admin endpoint's TLS and the dashboard's sessions.</summary>
    public AdminOptions Admin { get; init; } = new();

    /// <summary>How releases act on Postfix's hold queue and on counters.</summary>
    public ReleaseOptions Release { get; init; } = new();

    /// <summary>How often changed window counters are saved.</summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The default <see cref="CounterMemoryBudget"/>: room for about 1,000,000 identities under the default's three rules (about 650 bytes each).</summary>
    public const long DefaultCounterMemoryBudget = 640L << 20;

    /// <summary>The most the window counters may take in memory (counters.memory_budget); past it the least recently used identities are forgotten.</summary>
    public long CounterMemoryBudget { get; init; } = DefaultCounterMemoryBudget;

    /// <summary>Whether the embedded store journals every count (the default) or relies on snapshots alone.</summary>
    public CounterDurability CounterDurability { get; init; } = CounterDurability.Journal;

    public PolicyOptions Policy { get; init; } = new();

    /// <summary>The SMTP relay's endpoints; none when the relay is off.</summary>
    public IReadOnlyList<ListenEndpoint> RelayEndpoints { get; init; } = [];

    /// <summary>Live mail server logs followed as an enforcement point (listen.log); none by default.</summary>
    public IReadOnlyList<Logs.LogWatchOptions> LogWatches { get; init; } = [];

    /// <summary>The SMTP relay's bounds, access, TLS, logins and next hop.</summary>
    public RelayOptions Relay { get; init; } = new();

    /// <summary>Where and how incidents are announced.</summary>
    public AlertOptions Alerts { get; init; } = new();

    /// <summary>Each account's behaviour profile, score, probation and suspension (behaviour:); off without the section.</summary>
    public Behaviour.BehaviourOptions Behaviour { get; init; } = new(Enabled: false);

    /// <summary>Where decision lines go: "stdout", "none" or a file path.</summary>
    public string DecisionLog { get; init; } = "stdout";

    /// <summary>Embedded (memory and SQLite) or Redis (shared by a cluster of nodes).</summary>
    public StoreKind Store { get; init; } = StoreKind.Embedded;

    /// <summary>The shared Redis, when <see cref="Store"/> is <see cref="StoreKind.Redis"/>.</summary>
    public RedisOptions Redis { get; init; } = new();

    /// <summary>Where the configuration came from, for log lines.</summary>
    public string Source { get; init; } = "embedded default";

    /// <summary>The file the configuration was read from (a full path), which a reload reads again; null for the embedded default.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The FLOODGATE_* environment overrides the configuration was read with, to read it again the same way.</summary>
    public System.Collections.IDictionary Environment { get; init; } = new System.Collections.Hashtable();

    /// <summary>Each top-level key's (and each limit's, as limits.NAME) value as read, modes left out: what a reload compares.</summary>
    public IReadOnlyDictionary<string, string> Sections { get; init; } = new Dictionary<string, string>();
}
