using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Redis;

/// <summary>Helpers for driving several Floodgate nodes the way Postfix and an admin would.</summary>
internal static class ClusterNodes
{
    /// <summary>Sends each (node, account) message as a DATA request over <paramref name="connectionsPerNode"/> connections per node; returns each account's answers.</summary>
    public static async Task<ConcurrentDictionary<string, ConcurrentBag<string>>> SendAsync(IReadOnlyList<TestServer> nodes,
        IEnumerable<(int Node, string Account)> messages, int connectionsPerNode)
    {
        var answers = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var queues = nodes.Select(_ => new ConcurrentQueue<(string Account, int Number)>()).ToArray();
        var number = 0;
        foreach (var (node, account) in messages)
        {
            queues[node].Enqueue((account, number++));
        }

        var workers = new List<Task>();
        for (var n = 0; n < nodes.Count; n++)
        {
            for (var c = 0; c < connectionsPerNode; c++)
            {
                var (server, queue) = (nodes[n], queues[n]);
                workers.Add(Task.Run(async () =>
                {
                    await using var client = await PolicyClient.ConnectAsync(server.Tcp);
                    while (queue.TryDequeue(out var message))
                    {
                        var answer = await client.AskAsync(PolicyClient.Request("DATA", message.Account, message.Account, 1, $"i{message.Number}"));
                        answers.GetOrAdd(message.Account, _ => []).Add(answer);
                    }
                }));
            }
        }

        await Task.WhenAll(workers);
        return answers;
    }

    /// <summary>An HTTP client for a node's admin API with its token.</summary>
    public static HttpClient Admin(TestServer node)
    {
        var http = new HttpClient { BaseAddress = new Uri(node.AdminUrl), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.AdminToken);
        return http;
    }

    /// <summary>Asks a node (at RCPT, which counts nothing) until the answer satisfies <paramref name="done"/>; returns how long that took.</summary>
    public static async Task<TimeSpan> UntilAnswerAsync(TestServer node, string account, Func<string, bool> done, TimeSpan limit)
    {
        await using var client = await PolicyClient.ConnectAsync(node.Tcp);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var n = 0;
        while (true)
        {
            var answer = await client.AskAsync(PolicyClient.Request("RCPT", account, account, 1, $"poll{n++}"));
            if (done(answer))
            {
                return watch.Elapsed;
            }

            if (watch.Elapsed > limit)
            {
                Assert.Fail($"{account} still answered '{answer}' after {limit.TotalSeconds} s");
            }

            await Task.Delay(10);
        }
    }
}
