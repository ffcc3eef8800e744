using System.Text.Json.Nodes;
using Floodgate.Tests.Postfix;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Logs;

/// <summary>The real maillog of a flood behind a real Postfix, replayed with the same configuration, gives the verdicts the live policy service gave.</summary>
[Collection(PostfixGroup.Name)]
public class ReplayBehindPostfixTests
{
    private static readonly Dictionary<string, string> Users = new() { ["mallory"] = "stolen-password", ["alice"] = "alice-password" };

    private static string Login(string user) => $"{user}@{PostfixInstance.Domain}";

    [Fact]
    public async Task Replay_OfTheFloodsMaillog_GivesTheLiveVerdictsPerQueueId()
    {
        const string limits = "limits:\n  - { name: hourly, scope: account, unit: messages, max: 40, per: 1h, action: suspend }\n"
            + "  - { name: fanout, scope: account, unit: recipients, max: 200, per: 1m, action: defer }\n";
        var port = FreePort.Next();
        var config = PostfixInstance.Snippet("main.cf").Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        string live;
        await using (var floodgate = await TestServer.StartAsync(limits, listen: [$"127.0.0.1:{port}"]))
        {
            // One connection each, so the order Postfix logs the messages in is the order they were decided in.
            await Mail.SendAsync(postfix.SmtpPort, Login("mallory"), Users["mallory"],
                Enumerable.Range(0, 100).Select(i => Mail.Message(Login("mallory"), [$"victim{i}@remote.example"], $"flood {i}")));
            // Postfix ends the session after a deferred DATA, so each of alice's messages has a connection of its own.
            for (var i = 0; i < 5; i++)
            {
                await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"],
                    [Mail.Message(Login("alice"), [.. Enumerable.Range(0, 60).Select(r => $"p{i}-{r}@remote.example")], $"alice {i}")]);
            }
            await postfix.SettleAsync(TimeSpan.FromSeconds(60));
            live = floodgate.DecisionLogText();
        }

        // What the live policy service did to each message: held (the suspension) or deferred (the client kept those).
        var decided = live.Split('\n').Where(l => l.Contains(" queue_id=", StringComparison.Ordinal)).ToList();
        var liveHolds = decided.Where(l => l.Contains(" verdict=hold ", StringComparison.Ordinal)).Select(l => Value(l, "queue_id")).Order().ToList();
        Assert.Equal(60, liveHolds.Count);
        Assert.Equal(2, decided.Count(l => l.Contains(" verdict=defer ", StringComparison.Ordinal)));

        var yml = Path.Combine(postfix.Folder, "replay.yml");
        File.WriteAllText(yml, "listen: { policy: [\"127.0.0.1:0\"], admin: \"127.0.0.1:0\", relay: [] }\n" + limits);
        var replay = await FloodgateCli.RunAsync("replay", "--config", yml, "--json", Path.Combine(postfix.Folder, "maillog"));
        Assert.True(replay.Exit == 0, replay.Error);
        var lines = replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();

        // The same messages held, by queue id; the deferred ones Postfix refused itself, so they are not replayed.
        Assert.Equal(liveHolds, lines.Where(l => (string?)l["verdict"] == "hold").Select(l => (string)l["queue_id"]!).Order());
        Assert.DoesNotContain(lines, l => (string?)l["verdict"] is "defer" or "reject");
        Assert.Contains("103 messages replayed, 0 inbound and 2 refused by the server left out", replay.Error, StringComparison.Ordinal);
        var suspension = Assert.Single(lines, l => (string?)l["event"] == "suspended");
        Assert.Equal(Login("mallory"), (string?)suspension["account"]);
        Assert.Equal("hourly", (string?)lines.First(l => (string?)l["verdict"] == "hold")["rule"]);
    }

    private static string Value(string line, string name)
    {
        var at = line.IndexOf($" {name}=", StringComparison.Ordinal) + name.Length + 2;
        var end = line.IndexOf(' ', at);
        return end < 0 ? line[at..] : line[at..end];
    }
}
