using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Observe;

public sealed class ObserveConfigTests
{
    private const string Limits = """
        limits:
          - { name: burst, scope: account, unit: messages, max: 10, per: 1m, action: defer }
          - { name: hourly, scope: account, unit: messages, max: 100, per: 1h, action: suspend, mode: observe }
        """;

    [Fact]
    public void Mode_DefaultsToEnforce_AndIsReadForTheDeploymentAndPerLimit()
    {
        var enforcing = ConfigLoader.Parse(Limits, "floodgate.yml", new Dictionary<string, string>());
        Assert.Equal(EnforcementMode.Enforce, enforcing.Rules.Mode);
        Assert.Equal([EnforcementMode.Enforce, EnforcementMode.Observe], enforcing.Rules.Rules.Select(r => r.Mode));
        Assert.Equal(["hourly"], enforcing.Rules.Observed.Select(r => r.Name));

        var observing = ConfigLoader.Parse("mode: observe\n" + Limits, "floodgate.yml", new Dictionary<string, string>());
        Assert.Equal(EnforcementMode.Observe, observing.Rules.Mode);
        Assert.Equal(["burst", "hourly"], observing.Rules.Observed.Select(r => r.Name));
    }

    [Fact]
    public void Mode_FromTheEnvironment_ForTheDeploymentAndByLimitName()
    {
        var options = ConfigLoader.Parse(Limits, "floodgate.yml", new Dictionary<string, string>
        {
            ["FLOODGATE_MODE"] = "observe",
            ["FLOODGATE_LIMITS__BURST__MODE"] = "observe",
        });
        Assert.Equal(EnforcementMode.Observe, options.Rules.Mode);
        Assert.Equal(EnforcementMode.Observe, options.Rules.Rules[0].Mode);
    }

    [Theory]
    [InlineData("mode: watch\n", "floodgate.yml:1:7: mode: 'watch' is not one of: enforce, observe")]
    [InlineData("limits:\n  - { name: x, scope: account, unit: messages, max: 1, per: 1h, action: defer, mode: dry-run }\n",
        "limits[0] (x).mode: 'dry-run' is not one of: enforce, observe")]
    public void Mode_Mistake_IsReportedWithItsKeyAndLine(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message;
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_PrintsTheMode()
    {
        var dir = Directory.CreateTempSubdirectory("floodgate-mode-");
        try
        {
            var observing = Path.Combine(dir.FullName, "observe.yml");
            File.WriteAllText(observing, "mode: observe\n" + Limits);
            var perLimit = Path.Combine(dir.FullName, "per-limit.yml");
            File.WriteAllText(perLimit, Limits);

            var (exit, output, _) = await FloodgateCli.RunAsync("check-config", observing);
            Assert.Equal(0, exit);
            Assert.Contains("  mode: observe (nothing is enforced", output, StringComparison.Ordinal);

            (exit, output, _) = await FloodgateCli.RunAsync("check-config", perLimit);
            Assert.Equal(0, exit);
            Assert.Contains("  mode: enforce (observe only: hourly)", output, StringComparison.Ordinal);
            Assert.Contains("limit hourly (account, 100 messages per 1h, suspend, observe only)", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
