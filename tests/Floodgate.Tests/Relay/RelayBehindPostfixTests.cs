using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Floodgate.Quarantine;
using Floodgate.Tests.Postfix;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay;

/// <summary>
/// A real Postfix as the upstream mail server with Floodgate's relay as its relayhost (the deploy snippet), and
/// smtp-sink as Floodgate's next hop: a flooding sender's mail past its limit waits in the quarantine while Postfix's
/// own queue drains; release delivers it, purge removes it.
/// </summary>
[Collection(PostfixGroup.Name)]
public sealed class RelayBehindPostfixTests
{
    [Fact]
    public async Task Relay_BehindPostfix_QuarantinesTheFlood_PostfixQueueDrains_ReleaseDelivers_PurgeRemoves()
    {
        var relayPort = FreePort.Next();
        var snippet = PostfixInstance.Snippet("main.cf.relayhost");
        Assert.Contains("relayhost = [127.0.0.1]:2525", snippet, StringComparison.Ordinal);
        await using var postfix = await PostfixInstance.StartAsync(snippet.Replace(":2525", $":{relayPort}", StringComparison.Ordinal),
            new Dictionary<string, string>());
        await using var floodgate = await TestServer.StartAsync($$"""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 10, per: 1h, action: suspend }
            relay:
              hostname: floodgate.test
              next_hop: { host: 127.0.0.1, port: {{postfix.SinkPort}}, tls: none, retry_delay: 1s }
            """, relay: [$"127.0.0.1:{relayPort}"]);

        // Webmail-style submissions on Postfix's own network: the sender is the account.
        string Sender(string user) => $"{user}@{PostfixInstance.Domain}";
        var sent = await Task.WhenAll(
            Mail.SendAsync(postfix.SmtpPort, null, null, Enumerable.Range(0, 30).Select(i => Mail.Message(Sender("mallory"), ["x@remote.example"], $"flood {i}"))),
            Mail.SendAsync(postfix.SmtpPort, null, null, Enumerable.Range(0, 5).Select(i => Mail.Message(Sender("alice"), ["y@remote.example"], $"alice {i}"))),
            Mail.SendAsync(postfix.SmtpPort, null, null, Enumerable.Range(0, 15).Select(i => Mail.Message(Sender("eve"), ["z@remote.example"], $"eve {i}"))));
        Assert.Equal([30, 5, 15], sent);

        var quarantine = floodgate.Service<RelayQuarantine>();
        await WaitAsync(async () => (await postfix.QueueAsync()).Count == 0 && quarantine.Count == 25 && postfix.Delivered().Count == 25,
            async () => $"postfix queue {(await postfix.QueueAsync()).Count}, quarantine {quarantine.Count}, sink {postfix.Delivered().Count}");
        Assert.Equal(10, Subjects(postfix, "flood").Count);
        Assert.Equal(5, Subjects(postfix, "alice").Count);
        Assert.Equal(10, Subjects(postfix, "eve").Count);
        Assert.Equal(20, quarantine.List(Sender("mallory")).Count);
        Assert.Equal(5, quarantine.List(Sender("eve")).Count);

        using var http = new HttpClient { BaseAddress = new Uri(floodgate.AdminUrl) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", floodgate.AdminToken);
        var released = await (await http.PostAsJsonAsync($"api/accounts/{Sender("mallory")}/release", new { mode = "deliver" })).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(20, (int)released!["held_messages"]!);
        await WaitAsync(() => Task.FromResult(Subjects(postfix, "flood").Count == 30), () => Task.FromResult($"{Subjects(postfix, "flood").Count} of 30 flood messages at the sink"));
        Assert.Equal(30, Subjects(postfix, "flood").Distinct().Count());

        var purged = await (await http.PostAsJsonAsync($"api/accounts/{Sender("eve")}/release", new { mode = "purge" })).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(5, (int)purged!["held_messages"]!);
        Assert.Equal(0, quarantine.Count);
        Assert.Empty(Directory.EnumerateFiles(floodgate.Service<Floodgate.Relay.MessageSpool>().Directory));
        await Task.Delay(1000);
        Assert.Equal(10, Subjects(postfix, "eve").Count);
        Assert.Empty(await postfix.QueueAsync());
    }

    private static List<string> Subjects(PostfixInstance postfix, string prefix) =>
        [.. postfix.Delivered().SelectMany(h => h.Split('\n')).Where(l => l.StartsWith($"Subject: {prefix} ", StringComparison.Ordinal))];

    private static async Task WaitAsync(Func<Task<bool>> done, Func<Task<string>> state, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"timed out after {seconds} s: {await state()}");
            }

            await Task.Delay(200);
        }
    }
}
