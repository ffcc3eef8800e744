using Floodgate.Cli;
using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Tests.Configuration;

public class ConfigLoaderTests
{
    private const string Valid = """
        listen:
          policy: ["127.0.0.1:10040", "unix:/tmp/fg-test/policy.sock"]
        identity: { account: sasl_username, fallback: client_ip }
        limits:
          - { name: burst,  scope: account, unit: recipients, max: 60,   per: 1m,  action: defer }
          - { name: hourly, scope: account, unit: recipients, max: 500,  per: 1h,  action: suspend }
          - { name: domain, scope: sender_domain, unit: messages, max: 9000, per: 24h, action: hold }
        overrides: { "newsletter@example.com": { hourly: 5000 }, "bulk.example": { burst: 200 } }
        exempt: ["monitoring@example.com"]
        suspended_action: defer
        fail_mode: closed
        """;

    private static string ErrorOf(string yaml, Dictionary<string, string>? env = null) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", env)).Message;

    [Fact]
    public void EmbeddedDefault_IsValid_AndHasTheDocumentedLimits()
    {
        var options = ConfigLoader.Load(null, new Dictionary<string, string>());
        Assert.Equal(["burst", "hourly", "daily", "external_hourly"], options.Rules.Rules.Select(r => r.Name));
        Assert.Equal(LimitUnit.ExternalRecipients, options.Rules.Rules[3].Unit);
        Assert.True(options.Rules.LocalDomains.IsEmpty);
        Assert.Equal(2, options.PolicyEndpoints.Count);
        Assert.Equal(FailMode.Open, options.FailMode);
        Assert.Equal(Verdict.Hold, options.Rules.SuspendedVerdict);
    }

    [Fact]
    public void ValidFile_IsReadCompletely()
    {
        var options = ConfigLoader.Parse(Valid, "floodgate.yml", new Dictionary<string, string>());
        Assert.Equal("127.0.0.1:10040", options.PolicyEndpoints[0].ToString());
        Assert.Equal("/tmp/fg-test/policy.sock", options.PolicyEndpoints[1].UnixPath);
        Assert.Equal(FallbackIdentity.ClientIp, options.Rules.Fallback);
        Assert.Equal(5000, options.Rules.Rules[1].MaxFor("newsletter@example.com"));
        Assert.Equal(200, options.Rules.Rules[0].MaxFor("x@bulk.example"));
        Assert.Equal(Scope.SenderDomain, options.Rules.Rules[2].Scope);
        Assert.Equal(TimeSpan.FromHours(24), options.Rules.Rules[2].Window);
        Assert.True(options.Rules.IsExempt("monitoring@example.com"));
        Assert.Equal(Verdict.Defer, options.Rules.SuspendedVerdict);
        Assert.Equal(FailMode.Closed, options.FailMode);
    }

    [Theory]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, max: 5, per: 5x, action: defer }\n",
        "floodgate.yml:2:61: limits[0] (a).per: '5x' is not a duration")]
    [InlineData("limits:\n  - { name: a, scope: acount, unit: messages, max: 5, per: 5m, action: defer }\n",
        "floodgate.yml:2:23: limits[0] (a).scope: 'acount' is not one of: account, sender, sender_domain, client_ip")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, max: -5, per: 5m, action: defer }\n",
        "limits[0] (a).max: '-5' is not a whole number from 0 to 1000000000")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, per: 5m, action: defer }\n",
        "floodgate.yml:2:5: limits[0] (a).max: is missing")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: kilos, max: 5, per: 5m, action: defer }\n",
        "limits[0] (a).unit: 'kilos' is not one of: messages, recipients, bytes")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, max: 5, per: 5m, action: drop }\n",
        "limits[0] (a).action: 'drop' is not one of: defer, hold, reject, suspend")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, max: 5, per: 5m, action: defer }\n  - { name: a, scope: account, unit: messages, max: 9, per: 1h, action: defer }\n",
        "limits[1] (a).name: the name 'a' is used by an earlier limit")]
    [InlineData("limits:\n  - { name: a, scope: account, unit: messages, max: 5, per: 5m, action: defer, windw: 3 }\n",
        "limits[0] (a).windw: is not a known key")]
    [InlineData("limts: []\n", "floodgate.yml:1:1: limts: is not a known key; did you mean 'limits'?")]
    [InlineData("overrides: { \"a@b.c\": { nosuchrule: 5 } }\n", "overrides.a@b.c.nosuchrule: there is no limit named 'nosuchrule'")]
    [InlineData("listen:\n  policy: [\"10040\"]\n", "floodgate.yml:2:12: listen.policy: '10040' is not an endpoint")]
    [InlineData("listen:\n  policy: [\"unix:\"]\n", "listen.policy: a Unix socket needs a path")]
    [InlineData("fail_mode: maybe\n", "floodgate.yml:1:12: fail_mode: 'maybe' is not one of: open, closed")]
    [InlineData("suspended_action: accept\n", "suspended_action: 'accept' is not one of: hold, defer, reject")]
    [InlineData("identity: { fallback: ip }\n", "identity.fallback: 'ip' is not one of: sender, client_ip, none")]
    [InlineData("limits: { name: a }\n", "floodgate.yml:1:9: limits: must be a list of rules")]
    [InlineData("limits:\n  - [1, 2]\n", "limits[0]: must be a mapping")]
    [InlineData("policy: { idle_timeout: forever }\n", "policy.idle_timeout: 'forever' is not a duration")]
    [InlineData("policy: { socket_mode: rw }\n", "policy.socket_mode: 'rw' is not an octal file mode")]
    [InlineData("policy: { socket_group: no-such-group-here }\n", "floodgate.yml:1:25: policy.socket_group: 'no-such-group-here' is not a group on this machine")]
    [InlineData("policy: { max_request_bytes: 10 }\n", "policy.max_request_bytes: '10' is not a whole number from 1024 to 16777216")]
    [InlineData("policy:\n  answers: { defer: \"5.7.1 go away\" }\n", "policy.answers.defer: starts with status 5.7.1, but a defer answer's status must start with 4")]
    [InlineData("limits:\n  - { name: a, scope: account\n", "floodgate.yml:3:1: not valid YAML")]
    [InlineData("- just\n- a list\n", "the top level must be a mapping")]
    [InlineData("", "floodgate.yml: the file is empty")]
    [InlineData("store: cluster\n", "floodgate.yml:1:8: store: 'cluster' is not one of: embedded, redis")]
    [InlineData("store: redis\n", "floodgate.yml:1:1: redis: is missing: store: redis needs a redis: section")]
    [InlineData("store: redis\nredis: { key_prefix: \"f:\" }\n", "floodgate.yml:2:8: redis.connection: is missing")]
    [InlineData("redis: { conection: \"h:1\" }\n", "floodgate.yml:1:10: redis.conection: is not a known key; did you mean 'connection'?")]
    [InlineData("redis: { timeout: 5 }\n", "floodgate.yml:1:19: redis.timeout: '5' is not a duration from 10ms to 60s")]
    [InlineData("redis: { fail_mode: sometimes }\n", "redis.fail_mode: 'sometimes' is not one of: open, closed")]
    public void Mistake_IsReportedWithItsKeyAndLine(string yaml, string expected)
    {
        Assert.Contains(expected, ErrorOf(yaml), StringComparison.Ordinal);
    }

    [Fact]
    public void RedisStore_IsReadCompletely_PasswordFromTheEnvironment_NeverInAnError()
    {
        var options = ConfigLoader.Parse("store: redis\nredis:\n  connection: \"127.0.0.1:6379\"\n  key_prefix: \"mail1:\"\n  timeout: 100ms\n  fail_mode: closed\n",
            "floodgate.yml", new Dictionary<string, string> { ["FLOODGATE_REDIS__CONNECTION"] = "10.0.0.5:6380,password=s3cret,ssl=true" });
        Assert.Equal(StoreKind.Redis, options.Store);
        Assert.Equal(new RedisOptions { Connection = "10.0.0.5:6380,password=s3cret,ssl=true", KeyPrefix = "mail1:", Timeout = TimeSpan.FromMilliseconds(100), FailMode = FailMode.Closed }, options.Redis);
        Assert.Equal(StoreKind.Embedded, ConfigLoader.Parse("limits: []\n", "floodgate.yml").Store);

        var message = ErrorOf("store: redis\nredis: { connection: \"127.0.0.1:6379,password=s3cret,nosuchoption=1\" }\n");
        Assert.Contains("floodgate.yml:2:22: redis.connection: is not a valid connection string", message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralMistakes_AreAllReportedAtOnce()
    {
        var message = ErrorOf("fail_mode: maybe\nsuspended_action: nope\nlimits:\n  - { name: a, scope: x, unit: messages, max: 5, per: 5m, action: defer }\n");
        Assert.Equal(3, message.Split('\n').Length);
    }

    [Fact]
    public void Environment_OverridesScalarsListsAndRulesByName()
    {
        var env = new Dictionary<string, string>
        {
            ["FLOODGATE_FAIL_MODE"] = "closed",
            ["FLOODGATE_LISTEN__POLICY"] = "127.0.0.1:11000, unix:/tmp/x.sock",
            ["FLOODGATE_LIMITS__HOURLY__MAX"] = "1000",
            ["FLOODGATE_POLICY__IDLE_TIMEOUT"] = "30s",
            ["OTHER_VARIABLE"] = "ignored",
        };
        var options = ConfigLoader.Parse(Valid, "floodgate.yml", env);
        Assert.Equal(FailMode.Closed, options.FailMode);
        Assert.Equal(["127.0.0.1:11000", "unix:/tmp/x.sock"], options.PolicyEndpoints.Select(e => e.ToString()));
        Assert.Equal(1000, options.Rules.Rules.Single(r => r.Name == "hourly").Max);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Policy.IdleTimeout);
    }

    [Fact]
    public void Environment_BadOverride_IsReportedByVariableName()
    {
        Assert.Contains("FLOODGATE_LIMITS__NOPE__MAX: there is no limit named 'nope'",
            ErrorOf(Valid, new Dictionary<string, string> { ["FLOODGATE_LIMITS__NOPE__MAX"] = "5" }), StringComparison.Ordinal);
        Assert.Contains("FLOODGATE_LIMITS__HOURLY__MAX: limits[1] (hourly).max: 'lots' is not a whole number",
            ErrorOf(Valid, new Dictionary<string, string> { ["FLOODGATE_LIMITS__HOURLY__MAX"] = "lots" }), StringComparison.Ordinal);
        Assert.Contains("FLOODGATE_TYPO: typo: is not a known key",
            ErrorOf(Valid, new Dictionary<string, string> { ["FLOODGATE_TYPO"] = "1" }), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckConfig_ExitsZeroForAGoodFile_AndNonZeroForABadOne()
    {
        var dir = Directory.CreateTempSubdirectory("floodgate-config-");
        try
        {
            var good = Path.Combine(dir.FullName, "good.yml");
            var bad = Path.Combine(dir.FullName, "bad.yml");
            File.WriteAllText(good, Valid);
            File.WriteAllText(bad, "limits:\n  - { name: a, scope: account, unit: messages, max: 5, per: soon, action: defer }\n");

            Assert.Equal(0, FloodgateCommands.Build().Parse(["check-config", good]).Invoke());
            Assert.Equal(1, FloodgateCommands.Build().Parse(["check-config", bad]).Invoke());
            Assert.Equal(1, FloodgateCommands.Build().Parse(["check-config", Path.Combine(dir.FullName, "missing.yml")]).Invoke());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
