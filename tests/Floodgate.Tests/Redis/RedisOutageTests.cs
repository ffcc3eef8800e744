using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Floodgate.Storage;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Redis;

/// <summary>Redis killed (SIGKILL) in the middle of the load and started again: each node's fail mode, then the cluster view back.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private const string Limits = "limits:\n  - { name: hourly, scope: account, unit: messages, max: 5, per: 1h, action: defer }\n";

    // Its own redis-server: killing the shared one would break the other Redis tests running beside this one.
    private readonly RedisInstance _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task RedisKilledMidLoad_OpenNodeDecidesLocally_ClosedNodeDefers_NoCrash_EnforcementReturnsWithRedis()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        var prefix = $"outage:{Guid.NewGuid():N}:";
        await using var open = await TestServer.StartAsync(_redis.Yaml(prefix, "open") + Limits + $"alerts:\n  webhook: {{ url: \"{hook.Url("/hook")}\" }}\n");
        await using var closed = await TestServer.StartAsync(_redis.Yaml(prefix, "closed") + Limits);
        using var availability = new Availability(open.Service<RedisStore>());
        Assert.True(availability.Read() == 1, string.Join("\n", open.Logs.Lines));

        // Background load on both nodes: every answer and how long it took.
        using var stop = new CancellationTokenSource();
        var answers = new ConcurrentQueue<(string Node, string Answer, TimeSpan Took)>();
        var load = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var (node, name) = w % 2 == 0 ? (open, "open") : (closed, "closed");
            await using var client = await PolicyClient.ConnectAsync(node.Tcp);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var account = $"load{w}-{n % 50}@example.com";
                var watch = Stopwatch.StartNew();
                var answer = await client.AskAsync(PolicyClient.Request("DATA", account, account, 1, $"w{w}n{n}"));
                answers.Enqueue((name, answer, watch.Elapsed));
                await Task.Delay(2);
            }
        })).ToList();

        await Task.Delay(500);
        await _redis.KillAsync();
        await Eventually.TrueAsync(() => !open.Service<RedisStore>().IsAvailable && !closed.Service<RedisStore>().IsAvailable, "both nodes to see Redis gone", seconds: 5);
        var killedAt = answers.Count;
        await Task.Delay(1000);

        // During the outage the open node still enforces each limit, with its own counters.
        var local = await ClusterNodes.SendAsync([open], Enumerable.Repeat((0, "during@example.com"), 7), 1);
        Assert.Equal(5, local["during@example.com"].Count(x => x == "DUNNO"));
        Assert.Equal(2, local["during@example.com"].Count(x => x.StartsWith("DEFER_IF_PERMIT 4.7.1", StringComparison.Ordinal)));
        var deferred = await ClusterNodes.SendAsync([closed], [(0, "during@example.com")], 1);
        Assert.Equal("DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable", Assert.Single(deferred["during@example.com"]));
        Assert.Equal(0, availability.Read());

        await _redis.StartAsync();
        await Eventually.TrueAsync(() => open.Service<RedisStore>().IsAvailable && closed.Service<RedisStore>().IsAvailable, "both nodes to find Redis again", seconds: 10);
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // No crash, no hung request: every request got an answer, none waited long, each node answered its fail mode.
        var all = answers.ToList();
        Assert.True(all.Count > killedAt + 100, $"{all.Count} answers, {killedAt} of them before the kill");
        Assert.DoesNotContain(all, x => x.Answer is "CLOSED" || x.Answer.StartsWith("MALFORMED", StringComparison.Ordinal));
        Assert.True(all.Max(x => x.Took) < TimeSpan.FromSeconds(1), $"slowest answer {all.Max(x => x.Took)}");
        Assert.Contains(all, x => x.Node == "closed" && x.Answer.StartsWith("DEFER_IF_PERMIT 4.3.0", StringComparison.Ordinal));
        Assert.DoesNotContain(all, x => x.Node == "open" && x.Answer.StartsWith("DEFER_IF_PERMIT 4.3.0", StringComparison.Ordinal));
        // Logged once for the outage, not once per request.
        var outages = open.Logs.Lines.Where(l => l.Contains("RedisStore: store unavailable", StringComparison.Ordinal)).ToList();
        Assert.True(outages.Count == 1, string.Join("\n", outages));
        var outage = outages[0];
        Assert.Contains("cluster view is lost", outage, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{_redis.Port}", outage, StringComparison.Ordinal);
        Assert.Contains(open.Logs.Lines, l => l.Contains("store available again", StringComparison.Ordinal));
        Assert.DoesNotContain(open.Logs.Lines.Concat(closed.Logs.Lines), l => l.Contains(_redis.Password, StringComparison.Ordinal));

        // One alert for the outage and one for the recovery, through the configured channel.
        await Eventually.TrueAsync(() => hook.Requests >= 2, "the outage and recovery alerts");
        var subjects = hook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("subject").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["[Floodgate] store available", "[Floodgate] store unavailable"], subjects);
        Assert.Equal(1, availability.Read());

        // The cluster ledger is back: one account's messages over both nodes are limited together.
        var after = await ClusterNodes.SendAsync([open, closed], Enumerable.Range(0, 8).Select(i => (i % 2, "after@example.com")), 1);
        Assert.Equal(5, after["after@example.com"].Count(x => x == "DUNNO"));
        Assert.Equal(3, after["after@example.com"].Count(x => x.StartsWith("DEFER_IF_PERMIT 4.7.1", StringComparison.Ordinal)));
    }

    /// <summary>Reads a node's floodgate_store_available gauge the way a metrics exporter would.</summary>
    private sealed class Availability : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value = -1;

        public Availability(RedisStore store)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == store.Meter && instrument.Name == "floodgate_store_available")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Interlocked.Exchange(ref _value, value));
            _listener.Start();
        }

        public long Read()
        {
            _listener.RecordObservableInstruments();
            return Interlocked.Read(ref _value);
        }

        public void Dispose() => _listener.Dispose();
    }
}
