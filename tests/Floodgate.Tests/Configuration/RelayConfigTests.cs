using System.Net;
using Floodgate.Configuration;
using Floodgate.Relay;

namespace Floodgate.Tests.Configuration;

/// <summary>The relay's configuration: defaults, every key, and clear errors that never echo a secret.</summary>
public sealed class RelayConfigTests
{
    private const string Limits = "limits:\n  - { name: hourly, scope: account, unit: messages, max: 5, per: 1h, action: suspend }\n";

    [Fact]
    public void EmbeddedDefault_RunsTheRelayOnLoopback2525()
    {
        var options = ConfigLoader.Parse(ConfigLoader.EmbeddedDefault(), "default");
        Assert.Equal("127.0.0.1:2525", options.RelayEndpoints.Single().ToString());
        Assert.True(options.Relay.Networks.Single(n => n.BaseAddress.Equals(IPAddress.Parse("127.0.0.0"))).Contains(IPAddress.Parse("127.9.9.9")));
        Assert.DoesNotContain(options.Relay.Networks, n => n.Contains(IPAddress.Parse("192.0.2.1")));
        Assert.Equal(25, options.Relay.NextHop.Port);
        Assert.Equal(TimeSpan.FromDays(14), options.Relay.QuarantineRetention);
        Assert.Equal((500, 100, TimeSpan.FromSeconds(30)), (options.Relay.MaxConnections, options.Relay.UntrustedConnections, options.Relay.LoginTimeout));
    }

    [Fact]
    public void Relay_ReadsEveryKey()
    {
        var hash = RelayPassword.Hash("pw");
        var options = ConfigLoader.Parse(Limits + $$"""
            listen: { relay: ["127.0.0.1:2600", "[::1]:2600"] }
            relay:
              hostname: relay.example.com
              networks: [192.0.2.0/24, 198.51.100.7]
              identity: sender
              max_message_bytes: 1048576
              max_recipients: 50
              max_line_bytes: 1000
              max_bad_commands: 3
              idle_timeout: 30s
              max_connections: 20
              max_connections_per_address: 2
              max_untrusted_connections: 5
              login_timeout: 10s
              quarantine_retention: 3d
              users: [{ name: kerio, password_hash: "{{hash}}" }]
              next_hop: { host: smtp.isp.example, port: 587, tls: required, username: u, password: p, concurrency: 2,
                          retry_delay: 10s, max_retry_delay: 5m, max_age: 2d, timeout: 20s }
            """, "relay.yml");
        var relay = options.Relay;
        Assert.Equal(2, options.RelayEndpoints.Count);
        Assert.Equal("relay.example.com", relay.Hostname);
        Assert.True(relay.Networks[1].Contains(IPAddress.Parse("198.51.100.7")));
        Assert.DoesNotContain(relay.Networks, n => n.Contains(IPAddress.Parse("127.0.0.1")));
        Assert.Equal(RelayIdentity.Sender, relay.Identity);
        Assert.Equal((1048576L, 50, 1000, 3, 20, 2), (relay.MaxMessageBytes, relay.MaxRecipients, relay.MaxLineBytes, relay.MaxBadCommands,
            relay.MaxConnections, relay.MaxConnectionsPerAddress));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromDays(3)), (relay.IdleTimeout, relay.QuarantineRetention));
        Assert.Equal((5, TimeSpan.FromSeconds(10)), (relay.UntrustedConnections, relay.LoginTimeout));
        Assert.True(new RelayPassword(relay.Users).Verify("kerio", "pw"));
        Assert.Equal(new NextHopOptions
        {
            Host = "smtp.isp.example",
            Port = 587,
            Tls = NextHopTls.Required,
            Username = "u",
            Password = "p",
            Concurrency = 2,
            RetryDelay = TimeSpan.FromSeconds(10),
            MaxRetryDelay = TimeSpan.FromMinutes(5),
            MaxAge = TimeSpan.FromDays(2),
            Timeout = TimeSpan.FromSeconds(20),
        }, relay.NextHop);
    }

    [Fact]
    public void Relay_ReportsEveryMistake_WithoutEchoingAPassword()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Limits + """
            listen: { relay: ["unix:/tmp/relay.sock"] }
            relay:
              netwroks: [10.0.0.0/8]
              networks: [10.0.0.0/33]
              identity: account
              max_recipients: 0
              max_connections: 50
              max_untrusted_connections: 50
              login_timeout: soon
              users: [{ name: kerio, password_hash: "hunter2" }]
              next_hop: { tls: maybe, username: u }
            """, "relay.yml"));
        Assert.Contains("relay.yml:3:19: listen.relay: the relay listens on TCP", e.Message);
        Assert.Contains("relay.netwroks: is not a known key; did you mean 'networks'?", e.Message);
        Assert.Contains("relay.networks: '10.0.0.0/33' is not an address or a network", e.Message);
        Assert.Contains("relay.identity: 'account' is not one of: login, sender", e.Message);
        Assert.Contains("relay.max_recipients: '0' is not a whole number from 1 to 100000", e.Message);
        Assert.True(e.Message.Contains("relay.yml:10:30: relay.max_untrusted_connections: 50 leaves no room for the relay's own networks: keep it below relay.max_connections (50)", StringComparison.Ordinal), e.Message);
        Assert.Contains("relay.yml:11:18: relay.login_timeout: 'soon' is not a duration", e.Message);
        Assert.Contains("relay.users.password_hash: is not a password hash; make one with `floodgate hash-password`", e.Message);
        Assert.Contains("relay.next_hop.tls: 'maybe' is not one of: opportunistic, required, none", e.Message);
        Assert.Contains("relay.next_hop: username and password go together", e.Message);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RelayPassword_VerifiesOnlyTheRightPassword_AndHashesDiffer()
    {
        var first = RelayPassword.Hash("secret");
        Assert.NotEqual(first, RelayPassword.Hash("secret"));
        Assert.StartsWith("pbkdf2-sha256$210000$", first);
        var passwords = new RelayPassword([new RelayUser("kerio", first)]);
        Assert.True(passwords.Verify("kerio", "secret"));
        Assert.True(passwords.Verify("kerio", "secret"));
        Assert.False(passwords.Verify("kerio", "Secret"));
        Assert.False(passwords.Verify("other", "secret"));
    }
}
