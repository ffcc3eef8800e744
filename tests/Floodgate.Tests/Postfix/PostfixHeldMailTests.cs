using System.Diagnostics;
using System.Text.Json.Nodes;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Postfix;

/// <summary>
/// The held-mail ledger at the story's scale behind a real Postfix: every message Floodgate held is recorded, and one
/// `floodgate release` acts on all of it, however many.
/// </summary>
[Collection(PostfixGroup.Name)]
public class PostfixHeldMailTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Users = new() { ["mallory"] = "stolen-password" };

    private static string Login(string user) => $"{user}@{PostfixInstance.Domain}";

    private static async Task<(PostfixInstance Postfix, TestServer Floodgate)> StartAsync(string yaml)
    {
        var port = FreePort.Next();
        var config = PostfixInstance.Snippet("main.cf").Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        var postfix = await PostfixInstance.StartAsync(config, Users);
        var floodgate = await TestServer.StartAsync($"release: {{ postfix_config_dir: {postfix.ConfigDirectory} }}\n" + yaml, listen: [$"127.0.0.1:{port}"]);
        return (postfix, floodgate);
    }

    [Fact]
    public async Task Postfix_TwoThousandMessageFlood_OneReleaseDeliversEveryHeldMessage()
    {
        var (postfix, floodgate) = await StartAsync("limits:\n  - { name: hourly, scope: account, unit: messages, max: 20, per: 1h, action: suspend }\n");
        await using var _ = postfix;
        await using var __ = floodgate;

        var flood = Enumerable.Range(0, 2000).Select(i => Mail.Message(Login("mallory"), [$"victim{i}@remote.example"], $"flood {i}")).Chunk(250);
        var accepted = await Task.WhenAll(flood.Select(chunk => Mail.SendAsync(postfix.SmtpPort, Login("mallory"), Users["mallory"], chunk)));
        Assert.Equal(2000, accepted.Sum());
        await postfix.SettleAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(1980, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));

        var release = await FloodgateCli.AgainstAsync(floodgate, "release", Login("mallory"), "--deliver");
        Assert.True(release.Exit == 0, release.Error + release.Output);
        Assert.Contains($"{Login("mallory")} released; 1980 held messages delivered", release.Output, StringComparison.Ordinal);

        await postfix.SettleAsync(TimeSpan.FromSeconds(180));
        Assert.Empty(await postfix.QueueAsync());
        Assert.Equal(2000, postfix.Delivered().Count(h => h.Contains($"From: {Login("mallory")}", StringComparison.Ordinal)));
        var incident = JsonNode.Parse((await FloodgateCli.AgainstAsync(floodgate, "incidents", "--all", "--json")).Output)!.AsArray().Single()!;
        Assert.Equal("delivered", (string?)incident["resolution"]);
        Assert.Contains(incident["timeline"]!.AsArray(), e => ((string?)e!["detail"])?.Contains("1980 held messages delivered", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Postfix_HoldLimitWithoutSuspension_IsReleasedPerAccount()
    {
        // A plain hold limit opens no incident; its mail is still in the ledger, and release finds it.
        var (postfix, floodgate) = await StartAsync("limits:\n  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: hold }\n");
        await using var _ = postfix;
        await using var __ = floodgate;
        Assert.Equal(10, await Mail.SendAsync(postfix.SmtpPort, Login("mallory"), Users["mallory"],
            Enumerable.Range(0, 10).Select(i => Mail.Message(Login("mallory"), [$"v{i}@remote.example"], $"newsletter {i}"))));
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(7, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
        Assert.Empty(JsonNode.Parse((await FloodgateCli.AgainstAsync(floodgate, "incidents", "--all", "--json")).Output)!.AsArray());

        // The ledger lists them for the account; Postfix holds nothing that Floodgate did not record.
        var listed = JsonNode.Parse((await FloodgateCli.AgainstAsync(floodgate, "held", Login("mallory"), "--json")).Output)!;
        Assert.Equal(7, (int)listed["count"]!);
        Assert.All(listed["messages"]!.AsArray(), m => Assert.Equal("postfix hold queue", (string?)m!["place"]));
        Assert.Equal(7, listed["messages"]!.AsArray().Select(m => (string?)m!["id"]).Distinct().Count());
        var unrecorded = await FloodgateCli.AgainstAsync(floodgate, "held", "--unrecorded");
        Assert.Contains("0 messages in Postfix's hold queue were never recorded", unrecorded.Output, StringComparison.Ordinal);
        Assert.Equal((await postfix.QueueAsync()).Where(m => m.Queue == "hold").Select(m => m.QueueId).Order(),
            listed["messages"]!.AsArray().Select(m => (string)m!["id"]!).Order());

        // Two of them as if held before an upgrade: their records are gone, so Floodgate lists them as never recorded
        // and an account's release leaves them alone, until the admin asks for them by name.
        var byHand = listed["messages"]!.AsArray().Select(m => (string)m!["id"]!).Take(2).ToList();
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(floodgate.Options.DataDirectory, "floodgate.db")}"))
        {
            db.Open();
            using var forget = db.CreateCommand();
            forget.CommandText = $"DELETE FROM held_mail WHERE queue_id IN ('{byHand[0]}', '{byHand[1]}')";
            Assert.Equal(2, forget.ExecuteNonQuery());
        }

        var unknown = await FloodgateCli.AgainstAsync(floodgate, "held", "--unrecorded");
        Assert.Contains("2 messages in Postfix's hold queue were never recorded", unknown.Output, StringComparison.Ordinal);
        Assert.All(byHand, id => Assert.Contains(id, unknown.Output, StringComparison.Ordinal));

        var release = await FloodgateCli.AgainstAsync(floodgate, "release", Login("mallory"), "--purge");
        Assert.True(release.Exit == 0, release.Error + release.Output);
        Assert.Contains($"{Login("mallory")} released; 5 held messages purged", release.Output, StringComparison.Ordinal);
        Assert.Equal(byHand.Order(), (await postfix.QueueAsync()).Where(m => m.Queue == "hold").Select(m => m.QueueId).Order());

        var asked = await FloodgateCli.AgainstAsync(floodgate, "held", "--unrecorded", "--deliver");
        Assert.True(asked.Exit == 0, asked.Error + asked.Output);
        Assert.Contains("2 never-recorded held messages delivered; 0 left", asked.Output, StringComparison.Ordinal);
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(await postfix.QueueAsync());
    }

    [Fact]
    public async Task Postfix_InboundMailWithoutLogin_IsNeverSentToFloodgate_LoginsAre()
    {
        // The shipped snippet asks about logins and the trusted clients of floodgate-clients.cidr only. Here the trusted
        // clients are narrowed to 127.0.0.1, so a client on 127.0.0.2 plays a mail server on the Internet writing in.
        var (postfix, floodgate) = await StartAsync("identity: { fallback: sender }\n"
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: suspend }\n");
        await using var _ = postfix;
        await using var __ = floodgate;
        File.WriteAllText(Path.Combine(postfix.ConfigDirectory, "floodgate-clients.cidr"), "127.0.0.1/32 floodgate\n");
        await PostfixInstance.RunAsync("/usr/sbin/postfix", $"-c {postfix.ConfigDirectory} reload");
        await Task.Delay(1000);

        var forged = Enumerable.Range(0, 5).Select(i => Mail.Message(Login("mallory"), [$"v{i}@remote.example"], $"inbound {i}"));
        Assert.Equal(5, await Mail.SendAsync(postfix.SmtpPort, null, null, forged, from: "127.0.0.2"));
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(floodgate.DecisionLines);
        Assert.Equal(5, postfix.Delivered().Count);

        // The real login is asked about, counted and held past its limit as always.
        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("mallory"), Users["mallory"],
            Enumerable.Range(0, 3).Select(i => Mail.Message(Login("mallory"), [$"w{i}@remote.example"], $"own {i}")), from: "127.0.0.2"));
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, floodgate.DecisionLines.Count(l => l.Contains($"account={Login("mallory")}", StringComparison.Ordinal)));
        Assert.Single(await postfix.QueueAsync(), m => m.Queue == "hold");
    }

    [Fact]
    public async Task Postfix_TwentyThousandHeldMessages_AreReleasedByOneCommand()
    {
        // Unauthenticated from localhost, where the admin said the envelope sender is the account (webmail).
        var (postfix, floodgate) = await StartAsync("identity: { fallback: sender }\n"
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 20, per: 1h, action: suspend }\n");
        await using var _ = postfix;
        await using var __ = floodgate;
        const int total = 20_000;
        var sending = Stopwatch.StartNew();
        await PostfixInstance.RunAsync("/usr/sbin/smtp-source", $"-c -s 20 -m {total} -f flood@{PostfixInstance.Domain} -t victim@remote.example 127.0.0.1:{postfix.SmtpPort}");
        await postfix.SettleAsync(TimeSpan.FromSeconds(300));
        var held = (await postfix.QueueAsync()).Count(m => m.Queue == "hold");
        output.WriteLine($"{total} messages submitted in {sending.Elapsed.TotalSeconds:0.0} s; {held} held");
        Assert.Equal(total - 20, held);

        var timer = Stopwatch.StartNew();
        var release = await FloodgateCli.AgainstAsync(floodgate, "release", $"flood@{PostfixInstance.Domain}", "--deliver");
        timer.Stop();
        Assert.True(release.Exit == 0, release.Error + release.Output);
        Assert.Contains($"released; {total - 20} held messages delivered", release.Output, StringComparison.Ordinal);
        output.WriteLine($"released {total - 20} held messages in {timer.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"held-mail release: {total - 20} messages in {timer.Elapsed.TotalSeconds:0.0} s");
        Assert.DoesNotContain(await postfix.QueueAsync(), m => m.Queue == "hold");
    }
}
