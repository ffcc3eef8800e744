using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Behaviour;

/// <summary>`floodgate replay --json` with behaviour on: the lines the corpus scorer reads for probation, its end and suspension.</summary>
public class BehaviourReplayTests
{
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";

    [Fact]
    public async Task ReplayJson_ShowsProbationHoldsItsEnd_AndABehaviourSuspension()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-behaviour-replay-").FullName;
        var day = BehaviourWatchTests.TestDay;
        var mail = OfficeMail.Normal(Alice, OfficeMail.Monday, 21, seed: 1)
            .Concat(OfficeMail.Normal(Bob, OfficeMail.Monday, 22, seed: 5))
            // Alice is hijacked at 03:00 and blasts on; Bob sends a short odd burst at noon, then nothing odd again.
            .Concat(OfficeMail.Blast(Alice, day.AddHours(3), 400, TimeSpan.FromSeconds(4), recipients: 2))
            .Concat(OfficeMail.Blast(Bob, day.AddHours(12), 6, TimeSpan.FromSeconds(40)))
            .ToList();
        var log = Path.Combine(folder, "mail.log");
        await File.WriteAllLinesAsync(log, OfficeMail.PostfixLines(mail));
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, """
            listen: { policy: ["127.0.0.1:0"], admin: "127.0.0.1:0", relay: [] }
            limits:
              - { name: hourly, scope: account, unit: recipients, max: 5000, per: 1h, action: suspend }
            behaviour: { enabled: true }
            """);

        var (exit, output, error) = await FloodgateCli.RunAsync("replay", "--json", "--config", config, log);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        List<JsonObject> Of(string account) => [.. lines.Where(l => (string?)l["account"] == account)];

        // Alice: probation first, then held mail, then the suspension that keeps it held.
        var alice = Of(Alice);
        Assert.Equal("probation", (string?)alice[0]["event"]);
        var held = alice.Where(l => (string?)l["verdict"] == "hold" && ((string?)l["cause"])!.StartsWith("probation: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(held);
        Assert.All(held, l => Assert.Equal("behaviour", (string?)l["rule"]));
        var suspended = Assert.Single(alice, l => (string?)l["event"] == "suspended");
        Assert.StartsWith("behaviour: score", (string?)suspended["cause"], StringComparison.Ordinal);
        Assert.DoesNotContain(alice, l => (string?)l["event"] == "probation_ended");
        var delivered = mail.Count(m => m.Login == Alice && m.At >= day) - alice.Count(l => l["verdict"] is not null);
        Assert.InRange(delivered, 0, 4);

        // Bob: on probation for his burst, and released by himself once the probation time is over.
        var bob = Of(Bob);
        Assert.Equal("probation", (string?)bob[0]["event"]);
        var ended = Assert.Single(bob, l => (string?)l["event"] == "probation_ended");
        Assert.True(DateTimeOffset.Parse((string)ended["time"]!, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)bob[0]["time"]!, System.Globalization.CultureInfo.InvariantCulture) >= TimeSpan.FromHours(1));
        Assert.Contains("released", (string?)ended["cause"], StringComparison.Ordinal);
        Assert.DoesNotContain(bob, l => (string?)l["event"] == "suspended");
    }
}
