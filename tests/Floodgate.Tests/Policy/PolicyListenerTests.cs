using System.Net;
using System.Text;
using Floodgate.Engine;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Policy;

public class PolicyListenerTests
{
    private const string PerAccountLimit = """
        limits:
          - { name: hourly, scope: account, unit: messages, max: 20, per: 1h, action: defer }
        """;

    public static TheoryData<string> Transports => ["tcp", "unix"];

    private static EndPoint EndpointOf(TestServer server, string transport) => transport == "tcp" ? server.Tcp : server.Unix;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Listener_FiftyConnectionsThousandAccounts_EachAcceptedExactlyMinOfSentAndMax(string transport)
    {
        await using var server = await TestServer.StartAsync(PerAccountLimit);
        var random = new Random(42);
        var sends = Enumerable.Range(0, 1000).Select(i => (Account: $"user{i}@example.com", Count: random.Next(0, 41))).ToArray();

        // Interleave every account's messages at random over 50 connections, as 50 smtpd processes would.
        var work = sends.SelectMany(s => Enumerable.Repeat(s.Account, s.Count)).OrderBy(_ => random.Next()).ToArray();
        var accepted = new int[sends.Length];
        var index = sends.Select((s, i) => (s.Account, i)).ToDictionary(x => x.Account, x => x.i);
        var next = -1;
        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (c, _) =>
        {
            await using var client = await PolicyClient.ConnectAsync(EndpointOf(server, transport));
            int i;
            while ((i = Interlocked.Increment(ref next)) < work.Length)
            {
                var answer = await client.AskAsync(PolicyClient.Request("DATA", work[i], work[i], 1, $"c{c}.{i}"));
                if (answer == "DUNNO")
                {
                    Interlocked.Increment(ref accepted[index[work[i]]]);
                }
                else
                {
                    Assert.StartsWith("DEFER_IF_PERMIT 4.7.1 Sending limit reached for " + work[i], answer, StringComparison.Ordinal);
                }
            }
        });

        for (var i = 0; i < sends.Length; i++)
        {
            Assert.True(Math.Min(sends[i].Count, 20) == accepted[i], $"{sends[i].Account} sent {sends[i].Count}, accepted {accepted[i]}");
        }
    }

    [Fact]
    public async Task Listener_ControlCharactersInAnIdentity_AreNotEchoedIntoTheAnswerOrTheDecisionLog()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 1, per: 1h, action: defer }
            """);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        const string hostile = "mallory\r\u001b[2J\u009b31m\u007f@example.com";
        Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", hostile, hostile, 1, "c1")));
        var answer = await policy.AskAsync(PolicyClient.Request("DATA", hostile, hostile, 1, "c2"));

        Assert.StartsWith("DEFER_IF_PERMIT", answer, StringComparison.Ordinal);
        Assert.True(answer.Contains("mallory??[2j?31m?@example.com", StringComparison.Ordinal), answer);
        Assert.False(answer.Any(char.IsControl), answer);
        var lines = server.DecisionLines;
        Assert.Equal(2, lines.Count);
        Assert.All(lines, line => Assert.False(line.Any(char.IsControl), line));
        Assert.All(lines, line => Assert.Contains("account=\"mallory??[2J?31m?@example.com\"", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listener_UnixSocket_IsReadableAndWritableByOwnerAndGroupOnly()
    {
        await using var server = await TestServer.StartAsync(PerAccountLimit);
        var socket = server.Unix.ToString();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));
    }

    [Fact]
    public async Task Listener_GarbageConnections_DoNotDisturbTheOthers()
    {
        await using var server = await TestServer.StartAsync(PerAccountLimit);
        var honest = Enumerable.Range(0, 10).Select(async c =>
        {
            await using var client = await PolicyClient.ConnectAsync(server.Tcp);
            var accepted = 0;
            for (var m = 0; m < 30; m++)
            {
                accepted += await client.AskAsync(PolicyClient.Request("DATA", $"honest{c}@example.com", $"honest{c}@example.com", 1, $"{c}.{m}")) == "DUNNO" ? 1 : 0;
            }

            return accepted;
        }).ToList();
        var garbage = new[]
        {
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes("request=smtpd_access_policy\nsender=" + new string('A', 70_000)),
            [0, 1, 2, 3, 255, 254, 10, 10],
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 400).Select(i => $"a{i}=b\n")) + "\n"),
        };
        var answers = await Task.WhenAll(garbage.Select(async bytes =>
        {
            await using var client = await PolicyClient.ConnectAsync(server.Tcp);
            return await client.AskRawAsync(bytes);
        }));

        Assert.All(answers, a => Assert.Equal("CLOSED", a));
        Assert.All(await Task.WhenAll(honest), accepted => Assert.Equal(20, accepted));
        Assert.Contains(server.Logs.Lines, l => l.Contains("closing connection from 127.0.0.1", StringComparison.Ordinal) && l.Contains("larger than 65536 bytes", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Lines, l => l.Contains("more than 256 attributes", StringComparison.Ordinal));

        // The process still serves new connections.
        await using var after = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.Equal("DUNNO", await after.AskAsync(PolicyClient.Request("DATA", "new@example.com", "new@example.com", 1, "n")));
    }

    [Fact]
    public async Task Listener_DataThenEndOfMessage_CountsTheMessageOnce()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: hold }
            """);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        for (var m = 0; m < 2; m++)
        {
            Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, $"m{m}")));
            Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("END-OF-MESSAGE", "a@example.com", "a@example.com", 1, $"m{m}")));
        }

        var held = await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "m2"));
        Assert.Equal("HOLD Floodgate: a@example.com over limit hourly", held);
        Assert.Equal(held, await client.AskAsync(PolicyClient.Request("END-OF-MESSAGE", "a@example.com", "a@example.com", 1, "m2")));
    }

    [Fact]
    public async Task Listener_RcptChecks_DoNotCount_AndSuspensionHoldsFromTheFirstRecipient()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: hourly, scope: account, unit: recipients, max: 5, per: 1h, action: suspend }
            """);
        await using var client = await PolicyClient.ConnectAsync(server.Unix);

        // Forty RCPT checks of a message Postfix later rejects: nothing is counted.
        for (var r = 0; r < 40; r++)
        {
            Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("RCPT", "m@example.com", "m@example.com", 0, "rejected-later")));
        }

        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "m@example.com", "m@example.com", 5, "ok")));
        Assert.StartsWith("HOLD", await client.AskAsync(PolicyClient.Request("DATA", "m@example.com", "m@example.com", 1, "over")), StringComparison.Ordinal);
        Assert.Equal("HOLD Floodgate: m@example.com over limit hourly",
            await client.AskAsync(PolicyClient.Request("RCPT", "m@example.com", "m@example.com", 0, "next")));
        Assert.Contains(server.Logs.Lines, l => l.Contains("SUSPENDED account:m@example.com by rule hourly", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listener_LogsOneLinePerDecision_NamingAccountRuleAndCounters()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: burst, scope: account, unit: recipients, max: 10, per: 1m, action: defer }
            """);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        await client.AskAsync(PolicyClient.Request("DATA", "Alice@Example.com", "alice@example.com", 8, "1", "203.0.113.9"));
        await client.AskAsync(PolicyClient.Request("DATA", "Alice@Example.com", "alice@example.com", 8, "2", "203.0.113.9"));

        var lines = server.DecisionLogText().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2, lines.Length);
        Assert.Contains("verdict=accept rule=- account=Alice@Example.com sender=alice@example.com rcpts=8 size=1234 client=203.0.113.9 state=DATA counters=burst:8/10", lines[0], StringComparison.Ordinal);
        Assert.Contains("verdict=defer rule=burst account=Alice@Example.com", lines[1], StringComparison.Ordinal);
        Assert.Contains("counters=burst:8/10 cause=limit reason=\"account:alice@example.com has sent 8 of 10 recipients allowed per 1m and this message adds 8 (rule burst)\"", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listener_IdleConnection_IsClosedAfterTheIdleTimeout()
    {
        await using var server = await TestServer.StartAsync("policy: { idle_timeout: 1s }\n");
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "1")));

        Assert.Equal("CLOSED", await client.ReadAnswerAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(server.Logs.Lines, l => l.Contains("closing idle connection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listener_Stopping_ClosesOpenConnectionsAtOnce_SoPostfixReconnectsElsewhere()
    {
        await using var server = await TestServer.StartAsync("");
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "1")));

        var stopping = server.StopAsync();

        // Kestrel would otherwise keep the connection for its whole shutdown timeout (30 s).
        Assert.Equal("CLOSED", await client.ReadAnswerAsync(TimeSpan.FromSeconds(5)));
        await stopping;
    }

    [Fact]
    public async Task Listener_OverMaxConnections_RefusesTheExtraOne()
    {
        await using var server = await TestServer.StartAsync("policy: { max_connections: 2 }\n");
        await using var a = await PolicyClient.ConnectAsync(server.Tcp);
        await using var b = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.Equal("DUNNO", await a.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "1")));
        Assert.Equal("DUNNO", await b.AskAsync(PolicyClient.Request("DATA", "b@example.com", "b@example.com", 1, "1")));

        await using var c = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.Equal("CLOSED", await c.AskAsync(PolicyClient.Request("DATA", "c@example.com", "c@example.com", 1, "1")));
        Assert.Contains(server.Logs.Lines, l => l.Contains("2 connections already open", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("open", "DUNNO")]
    [InlineData("closed", "DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable")]
    public async Task Listener_InternalFailure_AnswersTheFailMode_AndKeepsServing(string mode, string expected)
    {
        await using var server = await TestServer.StartAsync($"fail_mode: {mode}\n", counters: new BrokenCounterStore());
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);

        Assert.Equal(expected, await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "1")));
        Assert.Equal(expected, await client.AskAsync(PolicyClient.Request("DATA", "a@example.com", "a@example.com", 1, "2")));
        Assert.Contains(server.Logs.Lines, l => l.Contains("decision for a@example.com failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listener_PipelinedRequests_AreAnsweredInOrder()
    {
        await using var server = await TestServer.StartAsync(PerAccountLimit);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        var batch = string.Concat(Enumerable.Range(0, 25).Select(i => PolicyClient.Request("DATA", "p@example.com", "p@example.com", 1, $"{i}")));
        await client.SendAsync(Encoding.ASCII.GetBytes(batch));

        var answers = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            answers.Add(await client.ReadAnswerAsync());
        }

        Assert.Equal(20, answers.Count(a => a == "DUNNO"));
        Assert.All(answers.Skip(20), a => Assert.StartsWith("DEFER_IF_PERMIT", a, StringComparison.Ordinal));
    }

    private sealed class BrokenCounterStore : ICounterStore
    {
        public ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit) =>
            throw new InvalidOperationException("counter store unavailable");
    }
}
