using System.Collections;
using System.Globalization;
using System.Reflection;
using Floodgate.Alerts;
using Floodgate.Engine;
using Floodgate.Incidents;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Floodgate.Configuration;

/// <summary>
/// Reads floodgate.yml (or the embedded default), applies FLOODGATE_* environment overrides and validates every key,
/// reporting all problems at once, each with the key's path and line.
/// </summary>
public sealed partial class ConfigLoader
{
    public const string EnvironmentPrefix = "FLOODGATE_";
    private const string EmbeddedName = "floodgate.yml";

    private static readonly string[] TopKeys = ["mode", "listen", "data_dir", "snapshot_interval", "identity", "limits", "overrides", "exempt", "suspended_action", "fail_mode", "policy", "log", "release", "alerts", "relay", "admin", "store", "redis", "counters", "max_recipients_per_message", "local_domains", "behaviour"];
    private static readonly string[] RedisKeys = ["connection", "key_prefix", "timeout", "fail_mode"];
    private static readonly string[] RuleKeys = ["name", "scope", "unit", "max", "per", "action", "release_after", "mode", "warn_at", "alert"];
    private static readonly string[] Modes = ["enforce", "observe"];
    private static readonly string[] PolicyKeys = ["max_request_bytes", "max_attributes", "idle_timeout", "max_connections", "socket_mode", "socket_group", "answers", "rcpt_check"];

    private readonly List<string> _errors = [];
    private readonly Dictionary<YamlNode, string> _fromEnvironment = new(ReferenceEqualityComparer.Instance);
    private readonly string _source;

    private ConfigLoader(string source)
    {
        _source = source;
    }

    /// <summary>The embedded default configuration's text.</summary>
    public static string EmbeddedDefault()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(EmbeddedName)
            ?? throw new InvalidOperationException("The embedded floodgate.yml is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Loads a file, or the embedded default when <paramref name="path"/> is null.</summary>
    public static FloodgateOptions Load(string? path, IDictionary? environment = null)
    {
        if (path is null)
        {
            return Parse(EmbeddedDefault(), "embedded default", environment ?? Environment.GetEnvironmentVariables());
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the configuration file: {e.Message}");
        }

        return Parse(text, path, environment ?? Environment.GetEnvironmentVariables()) with { ConfigFile = Path.GetFullPath(path) };
    }

    /// <summary>Parses configuration text; <paramref name="environment"/> supplies FLOODGATE_* overrides.</summary>
    public static FloodgateOptions Parse(string text, string source, IDictionary? environment = null)
    {
        var loader = new ConfigLoader(source);
        var root = loader.ReadYaml(text);
        if (root is not null && environment is not null)
        {
            loader.ApplyEnvironment(root, environment);
        }

        var options = root is null ? null : loader.Build(root);
        if (loader._errors.Count > 0 || options is null)
        {
            throw new ConfigException(loader._errors);
        }

        // Kept for a reload: the process's environment does not change while it runs, and the file is read with it again.
        var overrides = new Hashtable();
        foreach (var name in (environment?.Keys.OfType<string>() ?? []).Where(k => k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)))
        {
            overrides[name] = environment![name];
        }

        return options with { Source = source, Environment = overrides };
    }

    private YamlMappingNode? ReadYaml(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            _errors.Add($"{_source}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.InnerException?.Message ?? e.Message}");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet gives up on some malformed input (a plain scalar its scanner loses track of, an event its
            // loader has no node for) with these instead of a YamlException: found by fuzzing.
            _errors.Add($"{_source}: not valid YAML (the YAML reader could not make sense of it; check quotes and brackets)");
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            _errors.Add($"{_source}: the file is empty");
            return null;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            _errors.Add($"{_source}:{stream.Documents[0].RootNode.Start.Line}: the top level must be a mapping of keys (listen:, limits:, ...)");
            return null;
        }

        return root;
    }

    // FLOODGATE_A__B__C=value sets a.b.c; a list of rules is addressed by rule name (FLOODGATE_LIMITS__HOURLY__MAX),
    // a list of scalars takes a comma-separated value (FLOODGATE_LISTEN__POLICY=127.0.0.1:10040,unix:/run/f.sock).
    private void ApplyEnvironment(YamlMappingNode root, IDictionary environment)
    {
        foreach (var name in environment.Keys.OfType<string>().Where(k => k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (name == "FLOODGATE_CONFIG")
            {
                continue;
            }

            var value = environment[name] as string ?? "";
            var path = name[EnvironmentPrefix.Length..].ToLowerInvariant().Split("__");
            YamlNode node = root;
            for (var i = 0; i < path.Length; i++)
            {
                var last = i == path.Length - 1;
                switch (node)
                {
                    case YamlMappingNode map:
                        var key = new YamlScalarNode(path[i]);
                        if (last)
                        {
                            var existing = map.Children.TryGetValue(key, out var old) ? old : null;
                            YamlNode replacement = existing is YamlSequenceNode
                                ? new YamlSequenceNode(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => new YamlScalarNode(v)))
                                : new YamlScalarNode(value);
                            _fromEnvironment[key] = name;
                            _fromEnvironment[replacement] = name;
                            foreach (var child in (replacement as YamlSequenceNode)?.Children ?? [])
                            {
                                _fromEnvironment[child] = name;
                            }

                            map.Children[key] = replacement;
                        }
                        else if (!map.Children.TryGetValue(key, out var child))
                        {
                            child = new YamlMappingNode();
                            _fromEnvironment[key] = name;
                            _fromEnvironment[child] = name;
                            map.Children[key] = child;
                            node = child;
                        }
                        else
                        {
                            node = child;
                        }

                        break;
                    case YamlSequenceNode seq:
                        var item = seq.Children.OfType<YamlMappingNode>().FirstOrDefault(m =>
                            m.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode s
                            && string.Equals(s.Value, path[i], StringComparison.OrdinalIgnoreCase));
                        if (item is null || last)
                        {
                            _errors.Add($"{name}: there is no limit named '{path[i]}' to override");
                            i = path.Length;
                            break;
                        }

                        node = item;
                        break;
                    default:
                        _errors.Add($"{name}: '{string.Join('.', path[..i])}' is a single value, not a section");
                        i = path.Length;
                        break;
                }
            }
        }
    }

    private FloodgateOptions? Build(YamlMappingNode root)
    {
        CheckKeys(root, "", TopKeys);

        var endpoints = new List<ListenEndpoint>();
        var logWatches = new List<Logs.LogWatchOptions>();
        var admin = new ListenEndpoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8025), null);
        if (Section(root, "listen") is { } listen)
        {
            CheckKeys(listen, "listen.", ["policy", "admin", "relay", "log"]);
            logWatches = ReadLogWatches(listen);
            if (Scalar(listen, "admin", "listen.admin") is { } adminNode)
            {
                if (ListenEndpoint.TryParse(adminNode.Value!, out var ep, out var error) && ep!.Tcp is not null)
                {
                    admin = ep;
                }
                else
                {
                    Error(adminNode, "listen.admin", error ?? "the admin API listens on TCP: write host:port, for example 127.0.0.1:8025");
                }
            }
            foreach (var (text, node) in Strings(listen, "listen.policy"))
            {
                if (ListenEndpoint.TryParse(text, out var ep, out var error))
                {
                    endpoints.Add(ep!);
                }
                else
                {
                    Error(node, "listen.policy", error!);
                }
            }
        }

        var fallback = FallbackIdentity.None;
        IReadOnlyList<System.Net.IPNetwork> trusted = new FloodgateOptions { PolicyEndpoints = [], Rules = new RuleSet([]) }.TrustedNetworks;
        if (Section(root, "identity") is { } identity)
        {
            CheckKeys(identity, "identity.", ["account", "fallback", "trusted_networks"]);
            trusted = ReadNetworks(identity, "trusted_networks", "identity.trusted_networks") ?? trusted;
            Enum(identity, "account", "identity.account", ["sasl_username"], _ => 0, 0);
            fallback = Enum(identity, "fallback", "identity.fallback", ["sender", "client_ip", "none"],
                v => v switch { "sender" => FallbackIdentity.Sender, "client_ip" => FallbackIdentity.ClientIp, _ => FallbackIdentity.None },
                FallbackIdentity.None);
        }

        var overrides = ReadOverrides(root);
        var rules = ReadRules(root, overrides);
        var cap = ReadRecipientCap(root, overrides);
        foreach (var (key, rule, node) in overrides.SelectMany(o => o.Value.Select(r => (o.Key, r.Key, r.Value.Node))))
        {
            if (!rules.Any(r => r.Name == rule) && rule != RecipientCapName)
            {
                Error(node, $"overrides.{key}.{rule}", $"there is no limit named '{rule}'");
            }
        }

        var exempt = Strings(root, "exempt").Select(x => x.Text).ToList();
        var localDomains = ReadLocalDomains(root);
        var suspended = Enum(root, "suspended_action", "suspended_action", ["hold", "defer", "reject"],
            v => v switch { "defer" => Verdict.Defer, "reject" => Verdict.Reject, _ => Verdict.Hold }, Verdict.Hold);
        var mode = Enum(root, "mode", "mode", Modes, ModeOf, EnforcementMode.Enforce);
        var failMode = Enum(root, "fail_mode", "fail_mode", ["open", "closed"], v => v == "closed" ? FailMode.Closed : FailMode.Open, FailMode.Open);
        var policy = ReadPolicy(root);

        var dataDirectory = Path.GetFullPath(Scalar(root, "data_dir", "data_dir")?.Value ?? "data");
        var snapshotInterval = TimeSpan.FromSeconds(5);
        if (Scalar(root, "snapshot_interval", "snapshot_interval") is { } interval && !Durations.TryParse(interval.Value ?? "", out snapshotInterval))
        {
            Error(interval, "snapshot_interval", $"'{interval.Value}' is not a duration (1s, 5s, 1m)");
        }

        var release = ReadRelease(root);
        var (relayEndpoints, relay) = ReadRelay(root);
        var alerts = ReadAlerts(root);
        var adminOptions = ReadAdmin(root);
        var store = Enum(root, "store", "store", ["embedded", "redis"], v => v == "redis" ? StoreKind.Redis : StoreKind.Embedded, StoreKind.Embedded);
        var redis = ReadRedis(root, store);
        var decisions = "stdout";
        if (Section(root, "log") is { } log)
        {
            CheckKeys(log, "log.", ["decisions"]);
            decisions = Scalar(log, "decisions", "log.decisions")?.Value ?? "stdout";
        }

        var durability = CounterDurability.Journal;
        var memoryBudget = FloodgateOptions.DefaultCounterMemoryBudget;
        if (Section(root, "counters") is { } counters)
        {
            CheckKeys(counters, "counters.", ["durability", "memory_budget"]);
            durability = Enum(counters, "durability", "counters.durability", ["journal", "snapshot"],
                v => v == "snapshot" ? CounterDurability.Snapshot : CounterDurability.Journal, CounterDurability.Journal);
            memoryBudget = Size(counters, "memory_budget", "counters.memory_budget", 1L << 20, 1L << 40) ?? memoryBudget;
        }

        // Postfix names a message's recipients only at RCPT TO: a unique-recipients limit has nothing to count by without it.
        if (endpoints.Count > 0 && !policy.RcptCheck)
        {
            foreach (var unique in rules.Where(r => r.Unit == LimitUnit.UniqueRecipients))
            {
                Error(root, $"limits ({unique.Name}).unit",
                    "unique_recipients needs each message's recipient addresses, and Postfix sends them to its policy service only at RCPT TO. "
                    + "Add deploy/postfix/main.cf.rcpt to main.cf (smtpd_recipient_restrictions = check_sasl_access static:floodgate, "
                    + "permit_sasl_authenticated, check_client_access cidr:/etc/postfix/floodgate-clients.cidr) and set policy.rcpt_check: true; "
                    + "or, when only the relay and log readers feed Floodgate, turn the policy listener off (listen.policy: [])");
            }
        }

        var behaviour = ReadBehaviour(root);
        if (_errors.Count > 0)
        {
            return null;
        }

        return new FloodgateOptions
        {
            Behaviour = behaviour,
            CounterDurability = durability,
            CounterMemoryBudget = memoryBudget,
            PolicyEndpoints = endpoints,
            Rules = new RuleSet(rules, fallback, suspended, exempt) { Mode = mode, RecipientCap = cap, LocalDomains = localDomains },
            Sections = Fingerprints(root),
            TrustedNetworks = trusted,
            LogWatches = logWatches,
            FailMode = failMode,
            Policy = policy,
            DecisionLog = decisions,
            DataDirectory = dataDirectory,
            AdminEndpoint = admin,
            Admin = adminOptions,
            Release = release,
            Alerts = alerts,
            RelayEndpoints = relayEndpoints,
            Relay = relay,
            SnapshotInterval = snapshotInterval,
            Store = store,
            Redis = redis,
        };
    }

    private Dictionary<string, Dictionary<string, (long Max, YamlNode Node, bool Sized)>> ReadOverrides(YamlMappingNode root)
    {
        var result = new Dictionary<string, Dictionary<string, (long, YamlNode, bool)>>(StringComparer.OrdinalIgnoreCase);
        if (Section(root, "overrides") is not { } section)
        {
            return result;
        }

        foreach (var (keyNode, valueNode) in section.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode, "overrides", "each key must be an account, a domain or an address, not a list or a mapping");
                continue;
            }

            if (valueNode is not YamlMappingNode perRule)
            {
                Error(valueNode, $"overrides.{key}", "must map rule names to limits, for example { hourly: 5000 }");
                continue;
            }

            var limits = new Dictionary<string, (long, YamlNode, bool)>(StringComparer.Ordinal);
            foreach (var (ruleNode, maxNode) in perRule.Children)
            {
                if (ruleNode is not YamlScalarNode { Value: { } rule })
                {
                    Error(ruleNode, $"overrides.{key}", "each key must be a limit's name, not a list or a mapping");
                    continue;
                }

                // A size (500MB) is for a bytes limit; the limit's unit, known later, says whether it fits.
                if (maxNode is YamlScalarNode { Value: { } text } && SizeOf(text) is { } size && !text.All(char.IsAsciiDigit))
                {
                    limits[rule] = (size, ruleNode, true);
                }
                else if (ParseCount(maxNode, $"overrides.{key}.{rule}") is { } max)
                {
                    limits[rule] = (max, ruleNode, false);
                }
            }

            result[key] = limits;
        }

        return result;
    }

    /// <summary>The name of the per-message recipient cap, as a key of the configuration and of overrides.</summary>
    public const string RecipientCapName = "max_recipients_per_message";

    // max_recipients_per_message: a limit whose window is one message (its overrides under its own name).
    private LimitRule? ReadRecipientCap(YamlMappingNode root, Dictionary<string, Dictionary<string, (long Max, YamlNode Node, bool Sized)>> overrides)
    {
        if (Scalar(root, RecipientCapName, RecipientCapName) is not { } node || ParseCount(node, RecipientCapName, 1, 10_000_000) is not { } max)
        {
            foreach (var (key, o) in overrides.Where(o => o.Value.ContainsKey(RecipientCapName)))
            {
                Error(o[RecipientCapName].Node, $"overrides.{key}.{RecipientCapName}", $"there is no {RecipientCapName} to override: set one at the top level");
            }

            return null;
        }

        var capOverrides = overrides.Where(o => o.Value.ContainsKey(RecipientCapName))
            .ToDictionary(o => o.Key, o => o.Value[RecipientCapName].Max, StringComparer.OrdinalIgnoreCase);
        return new LimitRule(RecipientCapName, Scope.Account, LimitUnit.Recipients, max, TimeSpan.FromSeconds(1), LimitAction.Reject, capOverrides);
    }

    private List<LimitRule> ReadRules(YamlMappingNode root, Dictionary<string, Dictionary<string, (long Max, YamlNode Node, bool Sized)>> overrides)
    {
        var rules = new List<LimitRule>();
        if (!root.Children.TryGetValue(new YamlScalarNode("limits"), out var node) || node is YamlScalarNode { Value: null or "" })
        {
            return rules;
        }

        if (node is not YamlSequenceNode list)
        {
            Error(node, "limits", "must be a list of rules, each { name, scope, unit, max, per, action }");
            return rules;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Children.Count; i++)
        {
            var path = $"limits[{i}]";
            if (list.Children[i] is not YamlMappingNode item)
            {
                Error(list.Children[i], path, "must be a mapping { name, scope, unit, max, per, action }");
                continue;
            }

            var name = Scalar(item, "name", path + ".name", required: true)?.Value;
            if (name is not null)
            {
                path = $"limits[{i}] ({name})";
                if (!names.Add(name))
                {
                    Error(item, path + ".name", $"the name '{name}' is used by an earlier limit; names must be unique");
                }
            }

            CheckKeys(item, path + ".", RuleKeys);

            var scope = Enum(item, "scope", path + ".scope", ["account", "sender", "sender_domain", "client_ip"],
                v => v switch { "sender" => Scope.Sender, "sender_domain" => Scope.SenderDomain, "client_ip" => Scope.ClientIp, _ => Scope.Account },
                Scope.Account, required: true);
            var unit = Enum(item, "unit", path + ".unit", ScopeNames.UnitNames,
                v => ScopeNames.TryParseUnit(v, out var u) ? u : LimitUnit.Messages, LimitUnit.Messages, required: true);
            var action = Enum(item, "action", path + ".action", ["defer", "hold", "reject", "suspend"],
                v => v switch { "hold" => LimitAction.Hold, "reject" => LimitAction.Reject, "suspend" => LimitAction.Suspend, _ => LimitAction.Defer },
                LimitAction.Defer, required: true);
            // A bytes limit takes a size (500MB, 2GiB or a number of bytes) and counts in KiB.
            var max = unit == LimitUnit.Bytes
                ? Size(item, "max", path + ".max", 1024, 1L << 50) / 1024
                : Scalar(item, "max", path + ".max", required: true) is { } maxNode ? ParseCount(maxNode, path + ".max") : null;
            if (unit == LimitUnit.Bytes && item.Children.Keys.All(k => (k as YamlScalarNode)?.Value != "max"))
            {
                Error(item, path + ".max", "is missing");
            }
            TimeSpan window = default;
            if (Scalar(item, "per", path + ".per", required: true) is { } perNode && !Durations.TryParse(perNode.Value ?? "", out window))
            {
                Error(perNode, path + ".per", $"'{perNode.Value}' is not a duration: write a whole number and s, m, h or d (30s, 5m, 1h, 24h, 7d)");
            }

            if (name is null || max is null || window == default)
            {
                continue;
            }

            TimeSpan? releaseAfter = null;
            if (Scalar(item, "release_after", path + ".release_after") is { } releaseNode)
            {
                if (action != LimitAction.Suspend)
                {
                    Error(releaseNode, path + ".release_after", "applies only to limits with action: suspend");
                }
                else if (Durations.TryParse(releaseNode.Value ?? "", out var after))
                {
                    releaseAfter = after;
                }
                else
                {
                    Error(releaseNode, path + ".release_after", $"'{releaseNode.Value}' is not a duration (30m, 24h)");
                }
            }

            var mode = Enum(item, "mode", path + ".mode", Modes, ModeOf, EnforcementMode.Enforce);
            double? warnAt = null;
            if (Scalar(item, "warn_at", path + ".warn_at") is { } warnNode)
            {
                var text = warnNode.Value!.Trim();
                var percent = text.EndsWith('%');
                if (double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var share)
                    && (percent ? share / 100 : share) is var fraction and > 0 and < 1)
                {
                    warnAt = fraction;
                }
                else
                {
                    Error(warnNode, path + ".warn_at", $"'{text}' is not a share of the limit between 0 and 100%: write for example 80%");
                }
            }

            var alertWhenActing = Enum(item, "alert", path + ".alert", ["true", "false"], v => v == "true", false);
            if (alertWhenActing && action == LimitAction.Suspend && item.Children.TryGetValue(new YamlScalarNode("alert"), out var alertNode))
            {
                Error(alertNode, path + ".alert", "a suspend limit always alerts (with its incident); alert: true is for defer, hold and reject limits");
            }
            foreach (var (key, sized) in overrides.Where(o => o.Value.TryGetValue(name, out var v) && v.Sized && unit != LimitUnit.Bytes).Select(o => (o.Key, o.Value[name])))
            {
                Error(sized.Node, $"overrides.{key}.{name}", $"a size applies only to a limit with unit: bytes; {name} counts {ScopeNames.Of(unit)}");
            }

            var ruleOverrides = overrides
                .Where(o => o.Value.ContainsKey(name))
                .ToDictionary(o => o.Key, o => unit == LimitUnit.Bytes ? o.Value[name].Max / 1024 : o.Value[name].Max, StringComparer.OrdinalIgnoreCase);
            rules.Add(new LimitRule(name, scope, unit, max.Value, window, action, ruleOverrides)
            {
                ReleaseAfter = releaseAfter,
                Mode = mode,
                WarnAt = warnAt,
                AlertWhenActing = alertWhenActing,
            });
        }

        return rules;
    }

    private AdminOptions ReadAdmin(YamlMappingNode root)
    {
        var admin = new AdminOptions();
        if (Section(root, "admin") is not { } section)
        {
            return admin;
        }

        CheckKeys(section, "admin.", ["tls_certificate", "tls_key", "tls_password", "session_timeout"]);
        string? ExistingFile(string key)
        {
            if (Scalar(section, key, "admin." + key) is not { } node)
            {
                return null;
            }

            var path = Path.GetFullPath(node.Value ?? "");
            if (!File.Exists(path))
            {
                Error(node, "admin." + key, $"no such file: {path}");
            }

            return path;
        }

        admin = admin with
        {
            TlsCertificate = ExistingFile("tls_certificate"),
            TlsKey = ExistingFile("tls_key"),
            TlsPassword = Scalar(section, "tls_password", "admin.tls_password")?.Value,
        };
        if (admin.TlsKey is not null && admin.TlsCertificate is null)
        {
            Error(section, "admin.tls_key", "goes with admin.tls_certificate");
        }

        if (Scalar(section, "session_timeout", "admin.session_timeout") is { } timeout)
        {
            if (AlertOptions.TryParseDuration(timeout.Value ?? "", out var value) && value >= TimeSpan.FromMinutes(1) && value <= TimeSpan.FromDays(30))
            {
                admin = admin with { SessionTimeout = value };
            }
            else
            {
                Error(timeout, "admin.session_timeout", $"'{timeout.Value}' is not a duration from 1m to 30d (30m, 8h)");
            }
        }

        return admin;
    }

    private ReleaseOptions ReadRelease(YamlMappingNode root)
    {
        var release = new ReleaseOptions();
        if (Section(root, "release") is not { } section)
        {
            return release;
        }

        CheckKeys(section, "release.", ["postsuper", "postqueue", "postfix_config_dir", "reset_counters"]);
        if (Scalar(section, "postsuper", "release.postsuper") is { } postsuper)
        {
            release = release with { Postsuper = postsuper.Value! };
        }

        if (Scalar(section, "postqueue", "release.postqueue") is { } postqueue)
        {
            release = release with { Postqueue = postqueue.Value! };
        }

        if (Scalar(section, "postfix_config_dir", "release.postfix_config_dir") is { } dir)
        {
            release = release with { PostfixConfigDirectory = dir.Value };
        }

        return release with
        {
            ResetCounters = Enum(section, "reset_counters", "release.reset_counters", ["true", "false"], v => v == "true", true),
        };
    }

    private AlertOptions ReadAlerts(YamlMappingNode root)
    {
        var alerts = new AlertOptions();
        if (Section(root, "alerts") is not { } section)
        {
            return alerts;
        }

        CheckKeys(section, "alerts.", ["email", "webhook", "command", "retry", "reminder", "dashboard_url"]);

        TimeSpan Duration(YamlMappingNode map, string key, string path, TimeSpan fallback, TimeSpan min, TimeSpan max)
        {
            if (Scalar(map, key, path) is not { } node)
            {
                return fallback;
            }

            if (AlertOptions.TryParseDuration(node.Value!, out var value) && value >= min && value <= max)
            {
                return value;
            }

            Error(node, path, $"'{node.Value}' is not a duration from {AlertOptions.FormatDuration(min)} to {AlertOptions.FormatDuration(max)} (250ms, 30s, 5m, 1h)");
            return fallback;
        }

        // A URL is not echoed back: a webhook's path and query usually are its secret.
        Uri? Url(YamlMappingNode map, string key, string path, bool required)
        {
            if (Scalar(map, key, path, required) is not { } node)
            {
                return null;
            }

            if (WebhookAlertOptions.TryParseUrl(node.Value!, out var url))
            {
                return url;
            }

            Error(node, path, "is not an absolute http:// or https:// URL");
            return null;
        }

        if (Section(section, "email") is { } email)
        {
            CheckKeys(email, "alerts.email.", ["to", "from", "host", "port", "tls", "username", "password", "timeout"]);
            var to = new List<string>();
            var toEntries = Strings(email, "alerts.email.to");
            foreach (var (text, node) in toEntries)
            {
                if (EmailAlertOptions.IsAddress(text))
                {
                    to.Add(text.Trim());
                }
                else
                {
                    Error(node, "alerts.email.to", $"'{text}' is not a mail address (name@example.com)");
                }
            }

            if (toEntries.Count == 0)
            {
                Error(email.Children.TryGetValue(new YamlScalarNode("to"), out var where) ? where : email, "alerts.email.to", "needs at least one address to send alerts to");
            }

            var from = Scalar(email, "from", "alerts.email.from", required: true);
            if (from is not null && !EmailAlertOptions.IsAddress(from.Value!))
            {
                Error(from, "alerts.email.from", $"'{from.Value}' is not a mail address (floodgate@example.com)");
            }

            var host = Scalar(email, "host", "alerts.email.host", required: true);
            if (host is not null && Uri.CheckHostName(host.Value!.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                Error(host, "alerts.email.host", $"'{host.Value}' is not a host name or IP address");
            }

            var loopback = host is null || EmailAlertOptions.IsLoopback(host.Value!);
            var tls = Enum(email, "tls", "alerts.email.tls", ["none", "starttls", "implicit"],
                v => v switch { "starttls" => EmailTls.StartTls, "implicit" => EmailTls.Implicit, _ => EmailTls.None },
                loopback ? EmailTls.None : EmailTls.StartTls);
            var port = EmailAlertOptions.DefaultPort(tls);
            if (Scalar(email, "port", "alerts.email.port") is { } portNode && ParseCount(portNode, "alerts.email.port", 1, 65535) is { } p)
            {
                port = (int)p;
            }

            // Only whether a password is there is ever looked at: its value appears in no message.
            var username = Scalar(email, "username", "alerts.email.username");
            var password = Scalar(email, "password", "alerts.email.password");
            if (username is not null && password is null && !email.Children.ContainsKey(new YamlScalarNode("password")))
            {
                Error(username, "alerts.email.password", "is missing: a username needs a password (here or in FLOODGATE_ALERTS__EMAIL__PASSWORD)");
            }
            else if (password is not null && username is null && !email.Children.ContainsKey(new YamlScalarNode("username")))
            {
                Error(email, "alerts.email.username", "is missing: a password is set but no username to log in with");
            }
            else if (username is not null && tls == EmailTls.None && !loopback)
            {
                Error(username, "alerts.email.tls", $"is none, which would send the password in clear text to {host!.Value}: use starttls or implicit");
            }

            if (from is not null && host is not null && to.Count > 0)
            {
                alerts = alerts with
                {
                    Email = new EmailAlertOptions
                    {
                        To = to,
                        From = from.Value!.Trim(),
                        Host = host.Value!.Trim('[', ']'),
                        Port = port,
                        Tls = tls,
                        Username = username?.Value,
                        Password = password?.Value,
                        Timeout = Duration(email, "timeout", "alerts.email.timeout", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
                    },
                };
            }
        }

        if (Section(section, "webhook") is { } webhook)
        {
            CheckKeys(webhook, "alerts.webhook.", ["url", "timeout"]);
            var url = Url(webhook, "url", "alerts.webhook.url", required: true);
            var timeout = Duration(webhook, "timeout", "alerts.webhook.timeout", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
            if (url is not null)
            {
                alerts = alerts with { Webhook = new WebhookAlertOptions { Url = url, Timeout = timeout } };
            }
        }

        if (Section(section, "command") is { } command)
        {
            CheckKeys(command, "alerts.command.", ["run", "args", "timeout"]);
            var run = Scalar(command, "run", "alerts.command.run", required: true);
            if (run is not null && !Path.IsPathFullyQualified(run.Value!))
            {
                Error(run, "alerts.command.run", $"'{run.Value}' is not an absolute path (it is run without a shell or PATH lookup)");
            }
            else if (run is not null && !File.Exists(run.Value!))
            {
                Error(run, "alerts.command.run", $"'{run.Value}' does not exist");
            }

            var args = Strings(command, "alerts.command.args").Select(a => a.Text).ToList();
            var timeout = Duration(command, "timeout", "alerts.command.timeout", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
            if (run is not null)
            {
                alerts = alerts with { Command = new CommandAlertOptions { Run = run.Value!, Args = args, Timeout = timeout } };
            }
        }

        if (Section(section, "retry") is { } retry)
        {
            CheckKeys(retry, "alerts.retry.", ["attempts", "first_delay"]);
            var attempts = Scalar(retry, "attempts", "alerts.retry.attempts") is { } n ? ParseCount(n, "alerts.retry.attempts", 1, 20) : null;
            alerts = alerts with
            {
                Retry = new AlertRetryOptions
                {
                    Attempts = (int)(attempts ?? 6),
                    FirstDelay = Duration(retry, "first_delay", "alerts.retry.first_delay", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
                },
            };
        }

        if (Scalar(section, "reminder", "alerts.reminder") is { } reminder)
        {
            if (AlertOptions.TryParseDuration(reminder.Value!, out var every) && (every == TimeSpan.Zero || (every >= TimeSpan.FromMinutes(1) && every <= TimeSpan.FromDays(7))))
            {
                alerts = alerts with { Reminder = every };
            }
            else
            {
                Error(reminder, "alerts.reminder", $"'{reminder.Value}' is not 0s (no reminder) or a duration from 1m to 7d");
            }
        }

        if (section.Children.TryGetValue(new YamlScalarNode("dashboard_url"), out var dashboard) && dashboard is not YamlScalarNode { Value: null or "" })
        {
            alerts = alerts with { DashboardUrl = Url(section, "dashboard_url", "alerts.dashboard_url", required: false)?.OriginalString };
        }

        return alerts;
    }

    private RedisOptions ReadRedis(YamlMappingNode root, StoreKind store)
    {
        var redis = new RedisOptions();
        if (Section(root, "redis") is not { } section)
        {
            if (store == StoreKind.Redis)
            {
                Error(root, "redis", "is missing: store: redis needs a redis: section with at least connection: \"host:port,password=...\"");
            }

            return redis;
        }

        CheckKeys(section, "redis.", RedisKeys);
        if (Scalar(section, "connection", "redis.connection", required: store == StoreKind.Redis) is { } connection)
        {
            try
            {
                var parsed = StackExchange.Redis.ConfigurationOptions.Parse(connection.Value!);
                if (parsed.EndPoints.Count == 0)
                {
                    Error(connection, "redis.connection", "names no server: write host:port, for example \"127.0.0.1:6379,password=...\"");
                }

                redis = redis with { Connection = connection.Value! };
            }
            catch (ArgumentException e)
            {
                // The message names the offending option, never its value: the string may hold the password.
                Error(connection, "redis.connection", $"is not a valid connection string ({e.Message.Split('\n')[0]})");
            }
        }

        if (Scalar(section, "key_prefix", "redis.key_prefix") is { } prefix)
        {
            redis = redis with { KeyPrefix = prefix.Value! };
        }

        if (Scalar(section, "timeout", "redis.timeout") is { } timeout)
        {
            if (Milliseconds(timeout.Value!) is { } ms && ms >= 10 && ms <= 60_000)
            {
                redis = redis with { Timeout = TimeSpan.FromMilliseconds(ms) };
            }
            else
            {
                Error(timeout, "redis.timeout", $"'{timeout.Value}' is not a duration from 10ms to 60s (100ms, 250ms, 1s)");
            }
        }

        var failMode = Enum(section, "fail_mode", "redis.fail_mode", ["open", "closed"], v => v == "closed" ? FailMode.Closed : FailMode.Open, FailMode.Open);
        return redis with { FailMode = failMode };
    }

    private static long? Milliseconds(string text)
    {
        if (text.EndsWith("ms", StringComparison.Ordinal))
        {
            return long.TryParse(text.AsSpan(0, text.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : null;
        }

        return Durations.TryParse(text, out var duration) ? (long)duration.TotalMilliseconds : null;
    }

    // local_domains: names and *.example.com patterns whose recipients are not external.
    private DomainList ReadLocalDomains(YamlMappingNode root)
    {
        var domains = new List<string>();
        foreach (var (text, node) in Strings(root, "local_domains"))
        {
            var domain = text.Trim().TrimEnd('.');
            var name = domain.StartsWith("*.", StringComparison.Ordinal) ? domain[2..] : domain;
            if (name.Length == 0 || name.Contains('@') || name.Contains('*') || name.Any(char.IsWhiteSpace) || !name.Contains('.') && name != "localhost")
            {
                Error(node, "local_domains", $"'{text}' is not a domain: write example.com, or *.example.com for its subdomains");
                continue;
            }

            domains.Add(domain);
        }

        return new DomainList(domains);
    }

    private PolicyOptions ReadPolicy(YamlMappingNode root)
    {
        var policy = new PolicyOptions();
        if (Section(root, "policy") is not { } section)
        {
            return policy;
        }

        CheckKeys(section, "policy.", PolicyKeys);
        if (Scalar(section, "max_request_bytes", "policy.max_request_bytes") is { } n1 && ParseCount(n1, "policy.max_request_bytes", 1024, 16 * 1024 * 1024) is { } maxBytes)
        {
            policy = policy with { MaxRequestBytes = (int)maxBytes };
        }

        if (Scalar(section, "max_attributes", "policy.max_attributes") is { } n2 && ParseCount(n2, "policy.max_attributes", 8, 100_000) is { } maxAttrs)
        {
            policy = policy with { MaxAttributes = (int)maxAttrs };
        }

        policy = policy with { RcptCheck = Enum(section, "rcpt_check", "policy.rcpt_check", ["true", "false"], v => v == "true", false) };
        if (Scalar(section, "max_connections", "policy.max_connections") is { } n3 && ParseCount(n3, "policy.max_connections", 1, 1_000_000) is { } maxConns)
        {
            policy = policy with { MaxConnections = (int)maxConns };
        }

        if (Scalar(section, "idle_timeout", "policy.idle_timeout") is { } n4)
        {
            if (Durations.TryParse(n4.Value ?? "", out var idle))
            {
                policy = policy with { IdleTimeout = idle };
            }
            else
            {
                Error(n4, "policy.idle_timeout", $"'{n4.Value}' is not a duration (30s, 5m, 1h)");
            }
        }

        if (Scalar(section, "socket_mode", "policy.socket_mode") is { } n5)
        {
            try
            {
                var mode = Convert.ToInt32(n5.Value, 8);
                if (mode is < 0 or > 0b111_111_111)
                {
                    throw new FormatException();
                }

                policy = policy with { SocketMode = (UnixFileMode)mode };
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                Error(n5, "policy.socket_mode", $"'{n5.Value}' is not an octal file mode such as \"0660\" (quote it in YAML)");
            }
        }

        if (Scalar(section, "socket_group", "policy.socket_group") is { } n6)
        {
            if (Policy.PolicySocketAccess.GroupId(n6.Value ?? "") is { } gid)
            {
                policy = policy with { SocketGroup = gid };
            }
            else
            {
                Error(n6, "policy.socket_group", $"'{n6.Value}' is not a group on this machine (a name in /etc/group, or a number)");
            }
        }

        if (Section(section, "answers") is { } answers)
        {
            CheckKeys(answers, "policy.answers.", ["defer", "hold", "reject"]);
            policy = policy with
            {
                DeferText = AnswerText(answers, "defer", '4') ?? policy.DeferText,
                HoldText = AnswerText(answers, "hold", null) ?? policy.HoldText,
                RejectText = AnswerText(answers, "reject", '5') ?? policy.RejectText,
            };
        }

        return policy;
    }

    private string? AnswerText(YamlMappingNode answers, string key, char? statusClass)
    {
        if (Scalar(answers, key, "policy.answers." + key) is not { } node)
        {
            return null;
        }

        var text = node.Value ?? "";
        if (text.Length == 0 || text.Length > 400 || text.Any(char.IsControl))
        {
            Error(node, "policy.answers." + key, "must be one line of 1 to 400 printable characters");
            return null;
        }

        // Postfix takes a leading RFC 3463 code (4.7.1) as the reply's enhanced status; its class must match the verdict.
        if (statusClass is not null && text.Length > 5 && char.IsDigit(text[0]) && text[1] == '.' && text[0] != statusClass)
        {
            Error(node, "policy.answers." + key, $"starts with status {text.Split(' ')[0]}, but a {key} answer's status must start with {statusClass}");
            return null;
        }

        return text;
    }

    private void CheckKeys(YamlMappingNode map, string prefix, string[] known)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(name))
            {
                var hint = known.FirstOrDefault(k => Near(k, name));
                Error(key, prefix + name, "is not a known key" + (hint is null ? $" (known here: {string.Join(", ", known)})" : $"; did you mean '{hint}'?"));
            }
        }
    }

    private YamlMappingNode? Section(YamlMappingNode map, string key)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node) || node is YamlScalarNode { Value: null or "" })
        {
            return null;
        }

        if (node is YamlMappingNode section)
        {
            return section;
        }

        Error(node, key, "must be a section of keys");
        return null;
    }

    private YamlScalarNode? Scalar(YamlMappingNode map, string key, string path, bool required = false)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            if (required)
            {
                Error(map, path, "is missing");
            }

            return null;
        }

        if (node is YamlScalarNode scalar && !string.IsNullOrEmpty(scalar.Value))
        {
            return scalar;
        }

        Error(node, path, node is YamlScalarNode ? "is empty" : "must be a single value");
        return null;
    }

    private List<(string Text, YamlNode Node)> Strings(YamlMappingNode map, string path)
    {
        var key = path[(path.LastIndexOf('.') + 1)..];
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node) || node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (node is YamlScalarNode one)
        {
            return [(one.Value!, one)];
        }

        if (node is not YamlSequenceNode list)
        {
            Error(node, path, "must be a list of values");
            return [];
        }

        var result = new List<(string, YamlNode)>();
        foreach (var item in list.Children)
        {
            if (item is YamlScalarNode { Value: { Length: > 0 } v })
            {
                result.Add((v, item));
            }
            else
            {
                Error(item, path, "each entry must be a single non-empty value");
            }
        }

        return result;
    }

    private static EnforcementMode ModeOf(string value) => value == "observe" ? EnforcementMode.Observe : EnforcementMode.Enforce;

    // What a reload compares to tell which keys changed: each top-level key's subtree in one canonical text, each limit
    // on its own (limits.NAME); the modes are left out, since a reload applies them.
    private static Dictionary<string, string> Fingerprints(YamlMappingNode root)
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in root.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } || key == "mode")
            {
                continue;
            }

            if (key == "limits" && value is YamlSequenceNode list)
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var item = list.Children[i];
                    var name = item is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: { } v } ? v : $"[{i}]";
                    sections["limits." + name] = Canonical(item, skip: "mode");
                }

                sections["limits"] = string.Join(",", list.Children.Select((item, i) =>
                    item is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: { } v } ? v : $"[{i}]"));
                continue;
            }

            sections[key] = Canonical(value, skip: null);
        }

        return sections;
    }

    private static string Canonical(YamlNode node, string? skip) => node switch
    {
        YamlScalarNode scalar => System.Text.Json.JsonSerializer.Serialize(scalar.Value),
        YamlSequenceNode sequence => "[" + string.Join(",", sequence.Children.Select(c => Canonical(c, null))) + "]",
        YamlMappingNode map => "{" + string.Join(",", map.Children
            .Where(c => skip is null || c.Key is not YamlScalarNode { Value: var k } || k != skip)
            .Select(c => Canonical(c.Key, null) + ":" + Canonical(c.Value, null))) + "}",
        _ => "",
    };

    private T Enum<T>(YamlMappingNode map, string key, string path, string[] allowed, Func<string, T> convert, T fallback, bool required = false)
    {
        if (Scalar(map, key, path, required) is not { } node)
        {
            return fallback;
        }

        var value = node.Value!.ToLowerInvariant();
        if (allowed.Contains(value))
        {
            return convert(value);
        }

        Error(node, path, $"'{node.Value}' is not one of: {string.Join(", ", allowed)}");
        return fallback;
    }

    /// <summary>A size in bytes: a whole number, or one with KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers of 1024).</summary>
    private long? Size(YamlMappingNode map, string key, string path, long min, long max)
    {
        if (Scalar(map, key, path) is not { } node)
        {
            return null;
        }

        var text = node.Value?.Trim() ?? "";
        if (SizeOf(text) is { } bytes && bytes >= min && bytes <= max)
        {
            return bytes;
        }

        Error(node, path, $"'{text}' is not a size from {min} to {max} bytes: write a number with B, KB, MB, GB, KiB, MiB or GiB, for example 512MiB");
        return null;
    }

    // "512MiB", "200MB", "1048576" as bytes; null when it is not a size (or past 2^50 bytes).
    private static long? SizeOf(string text)
    {
        text = text.Trim();
        var digits = text.TakeWhile(char.IsAsciiDigit).Count();
        long? multiplier = text[digits..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" => 1000,
            "MB" => 1000 * 1000,
            "GB" => 1000 * 1000 * 1000,
            "KIB" => 1L << 10,
            "MIB" => 1L << 20,
            "GIB" => 1L << 30,
            _ => null,
        };
        return digits is > 0 and < 16 && multiplier is { } m && long.Parse(text[..digits], CultureInfo.InvariantCulture) is var n && n <= (1L << 50) / m
            ? n * m
            : null;
    }

    private long? ParseCount(YamlNode node, string path, long min = 0, long max = 1_000_000_000)
    {
        var text = (node as YamlScalarNode)?.Value;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
        {
            return n;
        }

        Error(node, path, $"'{text}' is not a whole number from {min} to {max}");
        return null;
    }

    private void Error(YamlNode node, string path, string message)
    {
        // Nodes made from environment overrides have no position in the file: name the variable instead.
        var where = _fromEnvironment.TryGetValue(node, out var variable) ? $"{variable}" : $"{_source}:{node.Start.Line}:{node.Start.Column}";
        _errors.Add($"{where}: {path}: {message}");
    }

    private static bool Near(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
        {
            return false;
        }

        var d = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            d[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            var prev = d[0];
            d[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var temp = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), prev + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
                prev = temp;
            }
        }

        return d[b.Length] <= 2;
    }
}
