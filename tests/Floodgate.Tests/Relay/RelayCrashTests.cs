using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit.Abstractions;

namespace Floodgate.Tests.Relay;

/// <summary>
/// No message Floodgate answered 250 for is lost: the real executable is killed with SIGKILL in the middle of a
/// 2,000-message load from 8 parallel clients, started again on the same data directory, and every acknowledged
/// message must then be at the next hop (Debian's smtp-sink, dumping each message to a file) or in the quarantine.
/// </summary>
public class RelayCrashTests(ITestOutputHelper output)
{
    private const int Messages = 2000;
    private const int Clients = 8;
    private const int KillAfterAcknowledged = Messages / 2;
    private const int Concurrency = 8;

    // Four flooders send 150 messages each past a suspend limit of 50 (the rest is held); 70 people send 20 each.
    private const int Flooders = 4;
    private const int FloodMessages = 150;
    private const int People = 70;
    private const int Limit = 50;

    [Fact]
    public async Task KillNine_MidLoad_EveryAcknowledgedMessageIsDeliveredOrQuarantined()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-relay-crash-").FullName;
        await using var sink = await SmtpSink.StartAsync();
        var relayPort = FreePort.Next();
        var adminPort = FreePort.Next();
        var data = Path.Combine(folder, "data");
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:{{FreePort.Next()}}"], admin: "127.0.0.1:{{adminPort}}", relay: ["127.0.0.1:{{relayPort}}"] }
            data_dir: {{data}}
            snapshot_interval: 1s
            log: { decisions: none }
            limits:
              - { name: hourly, scope: account, unit: messages, max: {{Limit}}, per: 1h, action: suspend }
            relay:
              next_hop: { host: 127.0.0.1, port: {{sink.Port}}, tls: none, concurrency: {{Concurrency}}, retry_delay: 1s }
            """);
        var log = new ConcurrentQueue<string>();
        var load = new Load(Plan());
        var clock = Stopwatch.StartNew();
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, relayPort, log.Enqueue);
            var sending = Enumerable.Range(0, Clients).Select(_ => Task.Run(() => load.SendAsync(relayPort))).ToArray();

            await load.Halfway.Task.WaitAsync(TimeSpan.FromSeconds(60));
            floodgate.Kill();
            await floodgate.WaitForExitAsync();
            var acknowledgedAtKill = load.Acknowledged;
            log.Enqueue($"--- killed (SIGKILL) after {acknowledgedAtKill} acknowledged, at {clock.Elapsed.TotalSeconds:F1} s ---");
            floodgate.Dispose();
            floodgate = await FloodgateProcess.StartAsync(config, relayPort, log.Enqueue);

            await Task.WhenAll(sending).WaitAsync(TimeSpan.FromSeconds(90));
            using var admin = await RelayRun.AdminAsync(adminPort, data);
            await RelayRun.DrainedAsync(admin, TimeSpan.FromSeconds(60));
            var held = await QuarantineAsync(admin);
            var delivered = sink.Messages().Select(Copy.Delivered).ToList();
            var verdict = Tally(load, delivered, held);

            output.WriteLine($"sent {Messages} messages from {Clients} clients in {clock.Elapsed.TotalSeconds:F1} s; floodgate killed (SIGKILL) after {acknowledgedAtKill} acknowledgements");
            output.WriteLine($"attempts whose 250 the client never saw: {load.Unanswered} (on {load.UnansweredMessages} messages, each sent again)");
            output.WriteLine($"at the sink: {delivered.Count} copies; in the quarantine: {held.Count} copies");
            output.WriteLine($"lost: {verdict.Lost.Count}");
            output.WriteLine($"duplicates: {verdict.Resent} sent again by a client that never saw its 250 (allowed), "
                + $"{verdict.Redelivered} delivered twice from the spool, in flight to the sink at the kill (allowed up to {Concurrency}), "
                + $"{verdict.Unexplained.Count} unexplained");
            foreach (var start in log.Where(l => l.Contains("floodgate started", StringComparison.Ordinal)))
            {
                output.WriteLine(Regex.Match(start, @"\d+ queued and \d+ held messages recovered").Value);
            }

            Assert.True(acknowledgedAtKill is >= KillAfterAcknowledged and < Messages, $"the kill came after {acknowledgedAtKill} acknowledgements, not mid-load");
            Assert.Equal(Messages, load.AcknowledgedMessages);
            Assert.True(held.Count > 0 && delivered.Count > 0, "the load must both deliver and quarantine mail");
            Assert.Empty(verdict.Lost);
            Assert.Empty(verdict.Unexplained);
            Assert.InRange(verdict.Redelivered, 0, Concurrency);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0, 120);
        }
        catch
        {
            output.WriteLine("floodgate's log (last 40 lines):");
            foreach (var line in log.TakeLast(40))
            {
                output.WriteLine(line);
            }

            throw;
        }
        finally
        {
            await FloodgateProcess.StopAsync(floodgate);
            Directory.Delete(folder, recursive: true);
        }
    }

    // Every message has its own Message-ID; the order mixes flooders and people over the whole run.
    private static List<Outgoing> Plan()
    {
        var messages = new List<Outgoing>();
        for (var i = 0; i < Flooders * FloodMessages; i++)
        {
            messages.Add(new Outgoing($"flood{i % Flooders}@crash.test", $"m{messages.Count:D4}.crash@floodgate.test"));
        }

        for (var i = 0; messages.Count < Messages; i++)
        {
            messages.Add(new Outgoing($"person{i % People}@crash.test", $"m{messages.Count:D4}.crash@floodgate.test"));
        }

        new Random(5).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(messages));
        return messages;
    }

    private static async Task<List<Copy>> QuarantineAsync(HttpClient admin)
    {
        using var held = await admin.GetFromJsonAsync<JsonDocument>("api/quarantine?limit=100000");
        return [.. held!.RootElement.GetProperty("messages").EnumerateArray()
            .Select(m => new Copy(Key(m.GetProperty("message_id").GetString()), m.GetProperty("id").GetString()!, "quarantine"))];
    }

    private static Verdict Tally(Load load, List<Copy> delivered, List<Copy> held)
    {
        var verdict = new Verdict();
        var all = delivered.Concat(held).ToList();
        var ids = all.Select(c => c.QueueId).ToHashSet(StringComparer.Ordinal);

        // Lost: a queue id the client was given in a 250 that is neither at the sink nor held.
        verdict.Lost.AddRange(load.AcknowledgedIds.Where(a => !ids.Contains(a.QueueId)).Select(a => $"{a.MessageId} (queued as {a.QueueId})"));

        // One spooled message is either delivered or held, never both.
        verdict.Unexplained.AddRange(held.Select(c => c.QueueId).Intersect(delivered.Select(c => c.QueueId)).Select(id => $"{id}: delivered and held"));

        // The same spooled message delivered twice: its delivery was under way when the process died.
        verdict.Redelivered = delivered.GroupBy(c => c.QueueId).Sum(g => g.Count() - 1);
        foreach (var copies in all.GroupBy(c => c.MessageId))
        {
            // Copies of one message under different queue ids: the client sent it again, which it may only have
            // done after an attempt whose 250 it never saw.
            var spooled = copies.Select(c => c.QueueId).Distinct().Count();
            var allowed = 1 + load.UnansweredAttempts(copies.Key);
            if (!load.Sent(copies.Key))
            {
                verdict.Unexplained.Add($"{copies.Key}: never sent by the test");
            }
            else if (spooled > allowed)
            {
                verdict.Unexplained.Add($"{copies.Key}: spooled {spooled} times but only {allowed - 1} attempts went unanswered ({string.Join(", ", copies)})");
            }

            verdict.Resent += spooled - 1;
        }

        return verdict;
    }

    private static string Key(string? messageId) => (messageId ?? "").Trim().Trim('<', '>');

    private sealed record Outgoing(string Sender, string MessageId);

    private sealed record Acknowledged(string MessageId, string QueueId);

    private sealed record Copy(string MessageId, string QueueId, string Where)
    {
        public static Copy Delivered(MimeMessage message)
        {
            return new Copy(Key(message.MessageId), RelayRun.QueueIdOf(message) ?? "(no Floodgate Received header)", "sink");
        }
    }

    private sealed class Verdict
    {
        public List<string> Lost { get; } = [];

        public List<string> Unexplained { get; } = [];

        public int Resent { get; set; }

        public int Redelivered { get; set; }
    }

    /// <summary>Clients sharing one list of messages; each is sent until a 250 comes back, as an MTA retries.</summary>
    private sealed class Load(List<Outgoing> plan)
    {
        private readonly ConcurrentQueue<Outgoing> _next = new(plan);
        private readonly HashSet<string> _planned = [.. plan.Select(p => p.MessageId)];
        private readonly ConcurrentDictionary<string, int> _unanswered = new(StringComparer.Ordinal);
        private readonly ConcurrentBag<Acknowledged> _acknowledged = [];
        private int _count;

        public TaskCompletionSource Halfway { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Acknowledged => Volatile.Read(ref _count);

        public IReadOnlyCollection<Acknowledged> AcknowledgedIds => _acknowledged;

        public int AcknowledgedMessages => _acknowledged.Select(a => a.MessageId).Distinct().Count();

        public int Unanswered => _unanswered.Values.Sum();

        public int UnansweredMessages => _unanswered.Count;

        public bool Sent(string messageId) => _planned.Contains(messageId);

        public int UnansweredAttempts(string messageId) => _unanswered.GetValueOrDefault(messageId);

        public async Task SendAsync(int port)
        {
            var client = new SmtpClient();
            try
            {
                while (_next.TryDequeue(out var message))
                {
                    while (true)
                    {
                        try
                        {
                            if (!client.IsConnected)
                            {
                                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
                            }
                        }
                        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or MailKit.ProtocolException)
                        {
                            // Floodgate is down (killed, not yet back): an MTA waits and tries again.
                            client.Dispose();
                            client = new SmtpClient();
                            await Task.Delay(50);
                            continue;
                        }

                        try
                        {
                            var answer = await client.SendAsync(Mime(message));
                            _acknowledged.Add(new Acknowledged(message.MessageId, QueueId(answer)));
                            if (Interlocked.Increment(ref _count) == KillAfterAcknowledged)
                            {
                                Halfway.TrySetResult();
                            }

                            break;
                        }
                        catch (Exception e) when (e is IOException or MailKit.ProtocolException or MailKit.ServiceNotConnectedException)
                        {
                            // The connection died under the transaction: whether it was spooled, the client cannot know.
                            _unanswered.AddOrUpdate(message.MessageId, 1, (_, n) => n + 1);
                            client.Dispose();
                            client = new SmtpClient();
                        }
                    }
                }

                await client.DisconnectAsync(quit: true);
            }
            finally
            {
                client.Dispose();
            }
        }

        private static string QueueId(string answer)
        {
            const string Queued = "queued as ";
            var at = answer.IndexOf(Queued, StringComparison.Ordinal);
            Assert.True(at >= 0, $"a 250 without a queue id: {answer}");
            return answer[(at + Queued.Length)..].Trim();
        }

        private static MimeMessage Mime(Outgoing outgoing)
        {
            var message = new MimeMessage { MessageId = outgoing.MessageId, Subject = $"crash test {outgoing.MessageId}" };
            message.From.Add(MailboxAddress.Parse(outgoing.Sender));
            message.To.Add(MailboxAddress.Parse("someone@remote.example"));
            message.Body = new TextPart("plain") { Text = $"{outgoing.MessageId}\n" };
            return message;
        }
    }
}
