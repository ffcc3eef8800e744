using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Postfix;

/// <summary>
/// Floodgate behind a real Postfix (Debian's package), configured with exactly the snippets in deploy/postfix that
/// the README gives users, with SASL-authenticated clients, and smtp-sink as the next hop.
/// </summary>
[Collection(PostfixGroup.Name)]
public class PostfixEndToEndTests
{
    private const string Remote = "remote.example";

    private static readonly Dictionary<string, string> Users = new()
    {
        ["mallory"] = "stolen-password",
        ["alice"] = "alice-password",
        ["bob"] = "bob-password",
    };

    public static TheoryData<string> Transports => ["tcp", "unix"];

    private static string Login(string user) => $"{user}@{PostfixInstance.Domain}";

    private static string[] Recipients(int n, string tag) => [.. Enumerable.Range(0, n).Select(i => $"{tag}{i}@{Remote}")];

    /// <summary>Postfix with the DATA snippet over TCP or a Unix socket, and a Floodgate with <paramref name="yaml"/> behind it.</summary>
    private static async Task<(PostfixInstance Postfix, TestServer Floodgate)> StartAsync(string transport, string yaml, params string[] snippets)
    {
        var port = FreePort.Next();
        var config = string.Join('\n', (snippets.Length == 0 ? ["main.cf"] : snippets).Select(PostfixInstance.Snippet));
        if (transport == "unix")
        {
            config = PostfixInstance.Snippet("main.cf.unix-socket");
        }
        else
        {
            Assert.Contains("inet:127.0.0.1:10040", config, StringComparison.Ordinal);
            config = config.Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        }

        var postfix = await PostfixInstance.StartAsync(config, Users);
        var listen = transport == "unix" ? $"unix:{postfix.PrivateSocket("floodgate")}" : $"127.0.0.1:{port}";
        // The socket is 0660: its group is what lets Postfix's user in, as the deploy snippet says.
        var floodgate = await TestServer.StartAsync(transport == "unix" ? yaml + "\npolicy:\n  socket_group: postfix\n" : yaml, listen: [listen]);
        return (postfix, floodgate);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Postfix_HijackedAccount_IsHeldAfterItsLimit_NothingLost_OthersDelivered(string transport)
    {
        var (postfix, floodgate) = await StartAsync(transport, """
            limits:
              - { name: hourly, scope: account, unit: messages, max: 50, per: 1h, action: suspend }
              - { name: fanout, scope: account, unit: recipients, max: 5000, per: 1m, action: defer }
            """);
        await using var _ = postfix;
        await using var __ = floodgate;

        // The spam bot: 300 messages over 6 connections, every tenth to 20 recipients; meanwhile two people work.
        var flood = Enumerable.Range(0, 300)
            .Select(i => Mail.Message(Login("mallory"), Recipients(i % 10 == 0 ? 20 : 1, $"victim{i}-"), $"flood {i}"))
            .Chunk(50);
        var sending = flood.Select(chunk => Mail.SendAsync(postfix.SmtpPort, Login("mallory"), Users["mallory"], chunk)).ToList();
        sending.Add(Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"],
            Enumerable.Range(0, 5).Select(i => Mail.Message(Login("alice"), Recipients(2, "partner"), $"alice {i}"))));
        sending.Add(Mail.SendAsync(postfix.SmtpPort, Login("bob"), Users["bob"],
            Enumerable.Range(0, 5).Select(i => Mail.Message(Login("bob"), Recipients(1, "customer"), $"bob {i}"))));
        var accepted = await Task.WhenAll(sending);

        Assert.Equal(310, accepted.Sum());
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        var queue = await postfix.QueueAsync();
        var delivered = postfix.Delivered();

        Assert.Equal(50, delivered.Count(h => h.Contains($"From: {Login("mallory")}", StringComparison.Ordinal)));
        Assert.Equal(250, queue.Count(m => m.Queue == "hold" && m.Sender == Login("mallory")));
        Assert.Equal(5, delivered.Count(h => h.Contains($"From: {Login("alice")}", StringComparison.Ordinal)));
        Assert.Equal(5, delivered.Count(h => h.Contains($"From: {Login("bob")}", StringComparison.Ordinal)));
        Assert.Equal(250, queue.Count);
        Assert.Contains(floodgate.Logs.Lines, l => l.Contains($"SUSPENDED account:{Login("mallory")} by rule hourly", StringComparison.Ordinal));
        var lines = floodgate.DecisionLines;
        var holds = lines.Count(l => l.Contains($"verdict=hold rule=hourly account={Login("mallory")}", StringComparison.Ordinal));
        Assert.True(250 == holds, $"{holds} hold lines of {lines.Count} decision lines");

        // Held, not lost: releasing the hold queue (postsuper -H ALL) delivers every one of them.
        await PostfixInstance.RunAsync("/usr/sbin/postsuper", $"-c {postfix.ConfigDirectory} -H ALL");
        await PostfixInstance.RunAsync("/usr/sbin/postqueue", $"-c {postfix.ConfigDirectory} -f");
        await postfix.SettleAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(300, postfix.Delivered().Count(h => h.Contains($"From: {Login("mallory")}", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("sender", 3 + 3)]
    [InlineData("client_ip", 3)]
    public async Task Postfix_UnauthenticatedClient_IsKeyedAsConfigured(string fallback, int expectedDelivered)
    {
        var (postfix, floodgate) = await StartAsync("tcp", $$"""
            identity: { fallback: {{fallback}} }
            limits:
              - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: hold }
            """);
        await using var _ = postfix;
        await using var __ = floodgate;

        // Two senders from the trusted network (mynetworks), without SASL.
        foreach (var sender in new[] { "app1", "app2" })
        {
            Assert.Equal(5, await Mail.SendAsync(postfix.SmtpPort, null, null,
                Enumerable.Range(0, 5).Select(i => Mail.Message(Login(sender), Recipients(1, "user"), $"{sender} {i}"))));
        }

        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expectedDelivered, postfix.Delivered().Count);
        Assert.Equal(10 - expectedDelivered, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
        var counted = fallback == "sender" ? $"reason=\"account:{Login("app1")} " : "reason=\"account:127.0.0.1 ";
        Assert.Contains(floodgate.DecisionLines, l => l.Contains("verdict=hold rule=hourly account=- ", StringComparison.Ordinal)
            && l.Contains(counted, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postfix_FloodgateDown_MailFlows_AndRestartingItRestoresEnforcement()
    {
        var port = FreePort.Next();
        var config = PostfixInstance.Snippet("main.cf").Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        const string Limit = """
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: hold }
            """;
        var floodgate = await TestServer.StartAsync(Limit, listen: [$"127.0.0.1:{port}"]);
        var alice = Enumerable.Range(0, 20).Select(i => Mail.Message(Login("alice"), Recipients(1, "x"), $"alice {i}")).ToArray();

        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], alice[..3]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, postfix.Delivered().Count);

        // Floodgate stops; Postfix keeps running and, with default_action=DUNNO, keeps delivering.
        await floodgate.DisposeAsync();
        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], alice[3..6]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, postfix.Delivered().Count);
        Assert.Contains("problem talking to server", postfix.MailLog, StringComparison.Ordinal);

        // Floodgate comes back on the same port: enforcement returns without touching Postfix.
        await using var restarted = await TestServer.StartAsync(Limit, listen: [$"127.0.0.1:{port}"]);
        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], alice[6..9]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(7, postfix.Delivered().Count);
        Assert.Equal(1 + 1, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
    }

    [Fact]
    public async Task Postfix_RcptCheck_HoldsASuspendedAccountFromItsFirstRecipient_AndRejectedMailIsNotCounted()
    {
        var port = FreePort.Next();

        // The README's DATA and RCPT snippets, with a site's own sender restriction in front of Floodgate at DATA.
        var config = (PostfixInstance.Snippet("main.cf") + "\n" + PostfixInstance.Snippet("main.cf.rcpt"))
            .Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal)
            .Replace("smtpd_data_restrictions =", $"smtpd_data_restrictions = check_sender_access inline:{{ {{ blocked@{PostfixInstance.Domain} = REJECT sender blocked here }} }},", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        await using var floodgate = await TestServer.StartAsync("""
            limits:
              - { name: hourly, scope: account, unit: recipients, max: 3, per: 1h, action: suspend }
            """, listen: [$"127.0.0.1:{port}"]);

        // Ten messages that pass Floodgate's RCPT check and are then rejected by Postfix at DATA: none may count.
        var rejected = Enumerable.Range(0, 10).Select(i => Mail.Message($"blocked@{PostfixInstance.Domain}", Recipients(2, "r"), $"rejected {i}"));
        Assert.Equal(0, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], rejected));

        // So the whole limit is still there: three one-recipient messages are delivered ...
        var mine = Enumerable.Range(0, 6).Select(i => Mail.Message(Login("alice"), Recipients(1, $"m{i}-"), $"alice {i}")).ToArray();
        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], mine[..3]));

        // ... the fourth finds the limit used up at its first recipient, which suspends the account and holds it,
        // and from then on all of the account's mail is held from its first recipient.
        Assert.Equal(3, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], mine[3..6]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, postfix.Delivered().Count);
        Assert.Equal(3, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
        var log = postfix.MailLog;
        Assert.Equal(10, CountOf(log, "sender blocked here"));
        Assert.Equal(0, CountOf(log, "hold: DATA from"));
        Assert.Equal(3, CountOf(log, "hold: RCPT from"));
        Assert.Contains(floodgate.Logs.Lines, l => l.Contains($"SUSPENDED account:{Login("alice")} by rule hourly", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postfix_RcptCheck_UniqueRecipients_CountsOnlyAddressesNotWrittenToInTheWindow()
    {
        var port = FreePort.Next();

        // The README's DATA and RCPT snippets: Floodgate learns each message's addresses at RCPT and counts at DATA.
        var config = (PostfixInstance.Snippet("main.cf") + "\n" + PostfixInstance.Snippet("main.cf.rcpt"))
            .Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        await using var floodgate = await TestServer.StartAsync("""
            policy: { rcpt_check: true }
            limits:
              - { name: new_people, scope: account, unit: unique_recipients, max: 25, per: 1h, action: reject }
            """, listen: [$"127.0.0.1:{port}"]);

        var colleagues = Recipients(10, "colleague");
        var strangers = Recipients(20, "stranger");
        var later = Recipients(15, "later");

        // Ten colleagues; then 30 recipients, 20 of them new: 30 different addresses in the hour, over 25, refused.
        Assert.Equal(1, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], [Mail.Message(Login("alice"), colleagues, "team")]));
        Assert.Equal(0, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"],
            [Mail.Message(Login("alice"), [.. colleagues, .. strangers], "to the world")]));

        // The colleagues again with 15 new addresses make exactly 25; and writing to the same people all day costs nothing.
        Assert.Equal(1, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], [Mail.Message(Login("alice"), [.. colleagues, .. later], "more")]));
        Assert.Equal(5, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"],
            Enumerable.Range(0, 5).Select(i => Mail.Message(Login("alice"), colleagues, $"again {i}"))));

        // One address more is one too many.
        Assert.Equal(0, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], [Mail.Message(Login("alice"), [.. colleagues, "one.more@remote.example"], "over")]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(7, postfix.Delivered().Count);
        Assert.DoesNotContain(postfix.Delivered(), m => m.Contains("stranger", StringComparison.Ordinal));
        Assert.Equal(2, CountOf(postfix.MailLog, "Sending limit reached for " + Login("alice")));
        var decisions = floodgate.DecisionLogText();
        Assert.Contains("has sent 10 of 25 unique recipients allowed per 1h and this message adds 20", decisions, StringComparison.Ordinal);
        Assert.Contains("has sent 25 of 25 unique recipients allowed per 1h and this message adds 1", decisions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postfix_ReleaseDeliver_DeliversTheHeldMail_ReleasePurge_DeletesIt()
    {
        var port = FreePort.Next();
        var config = PostfixInstance.Snippet("main.cf").Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        await using var floodgate = await TestServer.StartAsync(
            $"release: {{ postfix_config_dir: {postfix.ConfigDirectory} }}\n"
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }\n",
            listen: [$"127.0.0.1:{port}"]);
        foreach (var user in new[] { "mallory", "bob" })
        {
            Assert.Equal(8, await Mail.SendAsync(postfix.SmtpPort, Login(user), Users[user],
                Enumerable.Range(0, 8).Select(i => Mail.Message(Login(user), Recipients(1, "v"), $"{user} {i}"))));
        }

        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(10, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));

        var deliver = await FloodgateCli.AgainstAsync(floodgate, "release", Login("mallory"), "--deliver");
        Assert.True(deliver.Exit == 0, deliver.Error);
        Assert.Contains($"{Login("mallory")} released; 5 held messages delivered", deliver.Output, StringComparison.Ordinal);

        var purge = await FloodgateCli.AgainstAsync(floodgate, "release", Login("bob"), "--purge");
        Assert.True(purge.Exit == 0, purge.Error);
        Assert.Contains($"{Login("bob")} released; 5 held messages purged", purge.Output, StringComparison.Ordinal);

        // No queue flush by hand: the release itself sends the mail on now.
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(await postfix.QueueAsync());
        var delivered = postfix.Delivered();
        Assert.Equal(8, delivered.Count(h => h.Contains($"From: {Login("mallory")}", StringComparison.Ordinal)));
        Assert.Equal(3, delivered.Count(h => h.Contains($"From: {Login("bob")}", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Postfix_SuspensionWithReleaseAfter_IsLiftedAutomatically_HeldMailKept()
    {
        var port = FreePort.Next();
        var config = PostfixInstance.Snippet("main.cf").Replace("inet:127.0.0.1:10040", $"inet:127.0.0.1:{port}", StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(config, Users);
        await using var floodgate = await TestServer.StartAsync(
            "limits:\n  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend, release_after: 3s }\n",
            listen: [$"127.0.0.1:{port}"]);
        var messages = Enumerable.Range(0, 6).Select(i => Mail.Message(Login("alice"), Recipients(1, "v"), $"alice {i}")).ToArray();

        Assert.Equal(5, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], messages[..5]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
        var incidents = JsonNode.Parse((await FloodgateCli.AgainstAsync(floodgate, "incidents", "--all", "--json")).Output)!.AsArray();
        Assert.NotNull(incidents.Single()!["auto_release_at"]);

        // Three seconds after the suspension Floodgate releases the account by itself; the held mail waits for an admin.
        await Task.Delay(TimeSpan.FromSeconds(5));
        incidents = JsonNode.Parse((await FloodgateCli.AgainstAsync(floodgate, "incidents", "--all", "--json")).Output)!.AsArray();
        Assert.Equal("auto-released", incidents.Single()!["resolution"]!.GetValue<string>());
        Assert.Equal("floodgate", incidents.Single()!["closed_by"]!.GetValue<string>());

        Assert.Equal(1, await Mail.SendAsync(postfix.SmtpPort, Login("alice"), Users["alice"], messages[5..]));
        await postfix.SettleAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4, postfix.Delivered().Count);
        Assert.Equal(2, (await postfix.QueueAsync()).Count(m => m.Queue == "hold"));
    }

    private static int CountOf(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
