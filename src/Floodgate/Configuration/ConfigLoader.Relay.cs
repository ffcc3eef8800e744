using System.Net;
using Floodgate.Engine;
using Floodgate.Relay;
using YamlDotNet.RepresentationModel;

namespace Floodgate.Configuration;

/// <summary>The relay's part of the configuration: listen.relay and the relay section.</summary>
public sealed partial class ConfigLoader
{
    private static readonly string[] RelayKeys = ["hostname", "networks", "identity", "max_message_bytes", "max_recipients", "max_line_bytes",
        "max_bad_commands", "idle_timeout", "max_connections", "max_connections_per_address",
        "max_untrusted_connections", "login_timeout", "tls", "users", "next_hop", "quarantine_retention", "quarantine_max_bytes",
        "quarantine_max_bytes_per_account"];

    private static readonly string[] NextHopKeys = ["host", "port", "tls", "username", "password", "concurrency", "retry_delay", "max_retry_delay",
        "max_age", "timeout"];

    private (List<ListenEndpoint> Endpoints, RelayOptions Options) ReadRelay(YamlMappingNode root)
    {
        var endpoints = new List<ListenEndpoint>();
        if (Section(root, "listen") is { } listen)
        {
            foreach (var (text, node) in Strings(listen, "listen.relay"))
            {
                if (ListenEndpoint.TryParse(text, out var ep, out var error) && ep!.Tcp is not null)
                {
                    endpoints.Add(ep);
                }
                else
                {
                    Error(node, "listen.relay", error ?? "the relay listens on TCP: write host:port, for example 127.0.0.1:2525");
                }
            }
        }

        var relay = new RelayOptions();
        if (Section(root, "relay") is not { } section)
        {
            return (endpoints, relay);
        }

        CheckKeys(section, "relay.", RelayKeys);
        if (Scalar(section, "hostname", "relay.hostname") is { } hostname)
        {
            relay = relay with { Hostname = hostname.Value! };
        }

        if (ReadNetworks(section, "networks", "relay.networks") is { } networks)
        {
            relay = relay with { Networks = networks };
        }

        relay = relay with
        {
            Identity = Enum(section, "identity", "relay.identity", ["login", "sender"], v => v == "sender" ? RelayIdentity.Sender : RelayIdentity.Login, relay.Identity),
            MaxMessageBytes = Count(section, "max_message_bytes", "relay.max_message_bytes", 1024, 1L << 34) ?? relay.MaxMessageBytes,
            MaxRecipients = (int)(Count(section, "max_recipients", "relay.max_recipients", 1, 100_000) ?? relay.MaxRecipients),
            MaxLineBytes = (int)(Count(section, "max_line_bytes", "relay.max_line_bytes", 512, 1024 * 1024) ?? relay.MaxLineBytes),
            MaxBadCommands = (int)(Count(section, "max_bad_commands", "relay.max_bad_commands", 1, 10_000) ?? relay.MaxBadCommands),
            IdleTimeout = Duration(section, "idle_timeout", "relay.idle_timeout") ?? relay.IdleTimeout,
            MaxConnections = (int)(Count(section, "max_connections", "relay.max_connections", 1, 1_000_000) ?? relay.MaxConnections),
            MaxConnectionsPerAddress = (int)(Count(section, "max_connections_per_address", "relay.max_connections_per_address", 1, 1_000_000)
                ?? relay.MaxConnectionsPerAddress),
            QuarantineRetention = Duration(section, "quarantine_retention", "relay.quarantine_retention") ?? relay.QuarantineRetention,
            LoginTimeout = Duration(section, "login_timeout", "relay.login_timeout") ?? relay.LoginTimeout,
            QuarantineMaxBytes = Size(section, "quarantine_max_bytes", "relay.quarantine_max_bytes", 1L << 20, 1L << 50) ?? relay.QuarantineMaxBytes,
            QuarantineMaxBytesPerAccount = Size(section, "quarantine_max_bytes_per_account", "relay.quarantine_max_bytes_per_account", 1L << 10, 1L << 50)
                ?? relay.QuarantineMaxBytesPerAccount,
        };
        if (Scalar(section, "max_untrusted_connections", "relay.max_untrusted_connections") is { } untrusted
            && ParseCount(untrusted, "relay.max_untrusted_connections", 1, 1_000_000) is { } budget)
        {
            if (budget >= relay.MaxConnections)
            {
                Error(untrusted, "relay.max_untrusted_connections",
                    $"{budget} leaves no room for the relay's own networks: keep it below relay.max_connections ({relay.MaxConnections})");
            }

            relay = relay with { MaxUntrustedConnections = (int)budget };
        }

        if (Section(section, "tls") is { } tls)
        {
            CheckKeys(tls, "relay.tls.", ["certificate", "key"]);
            var certificate = Scalar(tls, "certificate", "relay.tls.certificate", required: true);
            var key = Scalar(tls, "key", "relay.tls.key");
            foreach (var (node, path) in new[] { (certificate, "relay.tls.certificate"), (key, "relay.tls.key") })
            {
                if (node is not null && !File.Exists(node.Value))
                {
                    Error(node, path, $"'{node.Value}' does not exist");
                }
            }

            relay = relay with { CertificatePath = certificate?.Value, CertificateKeyPath = key?.Value };
        }

        relay = relay with { Users = ReadRelayUsers(section) };
        if (Section(section, "next_hop") is { } hop)
        {
            relay = relay with { NextHop = ReadNextHop(hop) };
        }

        return (endpoints, relay);
    }

    // A list of addresses and networks (relay.networks, identity.trusted_networks); null when the key is absent.
    private List<IPNetwork>? ReadNetworks(YamlMappingNode section, string key, string path)
    {
        if (!section.Children.ContainsKey(new YamlScalarNode(key)))
        {
            return null;
        }

        var networks = new List<IPNetwork>();
        foreach (var (text, node) in Strings(section, path))
        {
            if (IPNetwork.TryParse(text, out var network) || (IPAddress.TryParse(text, out var single)
                && IPNetwork.TryParse($"{single}/{(single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}", out network)))
            {
                networks.Add(network);
            }
            else
            {
                Error(node, path, $"'{text}' is not an address or a network such as 192.0.2.0/24 or 2001:db8::/32");
            }
        }

        return networks;
    }

    private List<RelayUser> ReadRelayUsers(YamlMappingNode section)
    {
        var users = new List<RelayUser>();
        foreach (var user in Entries(section, "users", "relay.users",
            "{ name: LOGIN, password_hash: HASH } (make the hash with `floodgate hash-password`)"))
        {
            CheckKeys(user, "relay.users.", ["name", "password_hash"]);
            var name = Scalar(user, "name", "relay.users.name", required: true);
            var hash = Scalar(user, "password_hash", "relay.users.password_hash", required: true);
            if (hash is not null && !RelayPassword.IsHash(hash.Value!))
            {
                // Never echo the value: it may be a password pasted by mistake.
                Error(hash, "relay.users.password_hash", "is not a password hash; make one with `floodgate hash-password` (plain passwords are not accepted)");
            }
            else if (name is not null && hash is not null)
            {
                users.Add(new RelayUser(name.Value!, hash.Value!));
            }
        }

        return users;
    }

    // A list of { key: value } entries (relay.users, listen.log); each entry that is not a section is reported with what it should be.
    private List<YamlMappingNode> Entries(YamlMappingNode section, string key, string path, string shape)
    {
        var entries = new List<YamlMappingNode>();
        if (!section.Children.TryGetValue(new YamlScalarNode(key), out var node) || node is YamlScalarNode { Value: null or "" })
        {
            return entries;
        }

        if (node is not YamlSequenceNode list)
        {
            Error(node, path, $"must be a list of {shape} entries");
            return entries;
        }

        foreach (var item in list.Children)
        {
            if (item is YamlMappingNode entry)
            {
                entries.Add(entry);
            }
            else
            {
                Error(item, path, $"each entry is {shape}");
            }
        }

        return entries;
    }

    private NextHopOptions ReadNextHop(YamlMappingNode hop)
    {
        CheckKeys(hop, "relay.next_hop.", NextHopKeys);
        var options = new NextHopOptions();
        var username = Scalar(hop, "username", "relay.next_hop.username")?.Value;
        var password = Scalar(hop, "password", "relay.next_hop.password")?.Value;
        if ((username is null) != (password is null))
        {
            Error(hop, "relay.next_hop", "username and password go together");
        }

        return options with
        {
            Host = Scalar(hop, "host", "relay.next_hop.host")?.Value ?? options.Host,
            Port = (int)(Count(hop, "port", "relay.next_hop.port", 1, 65535) ?? options.Port),
            Tls = Enum(hop, "tls", "relay.next_hop.tls", ["opportunistic", "required", "none"],
                v => v switch { "required" => NextHopTls.Required, "none" => NextHopTls.None, _ => NextHopTls.Opportunistic }, options.Tls),
            Username = username,
            Password = password,
            Concurrency = (int)(Count(hop, "concurrency", "relay.next_hop.concurrency", 1, 256) ?? options.Concurrency),
            RetryDelay = Duration(hop, "retry_delay", "relay.next_hop.retry_delay") ?? options.RetryDelay,
            MaxRetryDelay = Duration(hop, "max_retry_delay", "relay.next_hop.max_retry_delay") ?? options.MaxRetryDelay,
            MaxAge = Duration(hop, "max_age", "relay.next_hop.max_age") ?? options.MaxAge,
            Timeout = Duration(hop, "timeout", "relay.next_hop.timeout") ?? options.Timeout,
        };
    }

    private long? Count(YamlMappingNode map, string key, string path, long min, long max) =>
        Scalar(map, key, path) is { } node ? ParseCount(node, path, min, max) : null;

    private TimeSpan? Duration(YamlMappingNode map, string key, string path)
    {
        if (Scalar(map, key, path) is not { } node)
        {
            return null;
        }

        if (Durations.TryParse(node.Value ?? "", out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        Error(node, path, $"'{node.Value}' is not a duration (30s, 5m, 1h, 14d)");
        return null;
    }
}
