using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit.Abstractions;

namespace Floodgate.Tests.Storage;

/// <summary>
/// No account gets more than its limit across a kill -9: four senders, each limited to 40 messages per hour, send 60
/// each (240) while the real executable is killed with SIGKILL mid-load and started again on the same data directory.
/// The snapshot interval is a minute, so no snapshot is taken before the kill: the counts survive through the journal.
/// </summary>
public class CrashCountingTests(ITestOutputHelper output)
{
    private const int Senders = 4;
    private const int PerSender = 60;
    private const int Limit = 40;
    private const int KillAfterAnswers = 100;

    [Fact]
    public async Task KillNine_MidRelayLoad_NoSenderGetsMoreThanItsLimitAndNothingAcknowledgedIsLost()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-count-crash-").FullName;
        await using var sink = await SmtpSink.StartAsync();
        var relayPort = FreePort.Next();
        var adminPort = FreePort.Next();
        var data = Path.Combine(folder, "data");
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:{{FreePort.Next()}}"], admin: "127.0.0.1:{{adminPort}}", relay: ["127.0.0.1:{{relayPort}}"] }
            data_dir: {{data}}
            snapshot_interval: 1m
            log: { decisions: none }
            limits:
              - { name: hourly, scope: account, unit: messages, max: {{Limit}}, per: 1h, action: hold }
            relay:
              next_hop: { host: 127.0.0.1, port: {{sink.Port}}, tls: none, concurrency: 4, retry_delay: 1s }
            """);
        var log = new ConcurrentQueue<string>();
        var plan = new ConcurrentQueue<(string Sender, string MessageId)>(Shuffled(i => ($"sender{i % Senders}@count.test", $"c{i:D3}.count@floodgate.test")));
        var acknowledged = new ConcurrentBag<(string Sender, string QueueId)>();
        var unanswered = 0;
        var killAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, relayPort, log.Enqueue);
            var sending = Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAsync)).ToArray();
            await killAt.Task.WaitAsync(TimeSpan.FromSeconds(60));
            floodgate.Kill();
            await floodgate.WaitForExitAsync();
            var atKill = acknowledged.Count;
            floodgate.Dispose();
            floodgate = await FloodgateProcess.StartAsync(config, relayPort, log.Enqueue);
            await Task.WhenAll(sending).WaitAsync(TimeSpan.FromSeconds(90));

            using var admin = await RelayRun.AdminAsync(adminPort, data);
            await RelayRun.DrainedAsync(admin, TimeSpan.FromSeconds(60));
            using var quarantine = await admin.GetFromJsonAsync<JsonDocument>("api/quarantine?limit=100000");
            var held = quarantine!.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToHashSet(StringComparer.Ordinal);
            var delivered = sink.Messages().Select(m => (Sender: m.From.Mailboxes.Single().Address, QueueId: RelayRun.QueueIdOf(m) ?? "(no Floodgate Received header)")).ToList();
            var deliveredIds = delivered.Select(d => d.QueueId).ToHashSet(StringComparer.Ordinal);
            var lost = acknowledged.Count(a => !deliveredIds.Contains(a.QueueId) && !held.Contains(a.QueueId));
            var perSender = delivered.GroupBy(d => d.Sender).ToDictionary(g => g.Key, g => g.Select(d => d.QueueId).Distinct().Count());
            var overLimit = perSender.Values.Sum(n => Math.Max(0, n - Limit));

            output.WriteLine($"{Senders * PerSender} messages from {Senders} senders, each limited to {Limit} per hour then hold; killed (SIGKILL) after {atKill} acknowledgements");
            output.WriteLine($"attempts whose answer the client never saw (sent again): {unanswered}");
            output.WriteLine($"delivered per sender: {string.Join(", ", perSender.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}; held: {held.Count}");
            output.WriteLine($"lost: {lost}");
            output.WriteLine($"over-limit: {overLimit}");
            foreach (var line in log.Where(l => l.Contains("counter journal", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            Assert.InRange(atKill, KillAfterAnswers, Senders * PerSender - 1);
            Assert.Equal(0, lost);
            Assert.Equal(0, overLimit);

            // The limit is still there to use: each sender got its 40 (a copy counted at the kill may cost one more).
            Assert.All(perSender.Values, n => Assert.InRange(n, Limit - unanswered, Limit));
            Assert.Equal(Senders, perSender.Count);
        }
        catch
        {
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

        async Task SendAsync()
        {
            var client = new SmtpClient();
            try
            {
                while (plan.TryDequeue(out var message))
                {
                    while (true)
                    {
                        try
                        {
                            if (!client.IsConnected)
                            {
                                await client.ConnectAsync("127.0.0.1", relayPort, SecureSocketOptions.None);
                            }

                            var answer = await client.SendAsync(Mime(message.Sender, message.MessageId));
                            acknowledged.Add((message.Sender, answer[(answer.IndexOf("queued as ", StringComparison.Ordinal) + 10)..].Trim()));
                            if (acknowledged.Count >= KillAfterAnswers)
                            {
                                killAt.TrySetResult();
                            }

                            break;
                        }
                        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException or MailKit.ServiceNotConnectedException)
                        {
                            // Floodgate is down or died under the transaction: an MTA sends the message again later.
                            if (client.IsConnected || e is not System.Net.Sockets.SocketException)
                            {
                                Interlocked.Increment(ref unanswered);
                            }

                            client.Dispose();
                            client = new SmtpClient();
                            await Task.Delay(50);
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
    }

    [Fact]
    public async Task KillNine_MidPolicyLoad_NoAccountGetsMoreThanItsLimitAndNoCountIsLost()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-count-crash-").FullName;
        var port = FreePort.Next();
        var adminPort = FreePort.Next();
        var data = Path.Combine(folder, "data");
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:{{port}}"], admin: "127.0.0.1:{{adminPort}}" }
            data_dir: {{data}}
            snapshot_interval: 1m
            log: { decisions: none }
            limits:
              - { name: hourly, scope: account, unit: messages, max: {{Limit}}, per: 1h, action: defer }
            """);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var log = new ConcurrentQueue<string>();
        var plan = new ConcurrentQueue<(string Account, string Instance)>(Shuffled(i => ($"user{i % Senders}@count.test", $"p{i:D3}")));
        var dunno = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var unanswered = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var answers = 0;
        var killAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The clients wait after the kill until the restarted process's counts have been read.
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, port, log.Enqueue);
            var sending = Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAsync)).ToArray();
            await killAt.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Dictionary<string, int> dunnoAtKill;
            lock (dunno)
            {
                floodgate.Kill();
                dunnoAtKill = dunno.ToDictionary(StringComparer.Ordinal);
            }

            await floodgate.WaitForExitAsync();
            floodgate.Dispose();
            floodgate = await FloodgateProcess.StartAsync(config, port, log.Enqueue);

            // What the restarted process remembers, before the rest of the load: at least every DUNNO it gave.
            using var admin = await RelayRun.AdminAsync(adminPort, data);
            var remembered = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var account in dunnoAtKill.Keys)
            {
                using var state = await admin.GetFromJsonAsync<JsonDocument>($"api/accounts/{account}");
                remembered[account] = state!.RootElement.GetProperty("counters")[0].GetProperty("count").GetInt64();
            }

            resume.TrySetResult();
            await Task.WhenAll(sending).WaitAsync(TimeSpan.FromSeconds(90));
            var lost = dunnoAtKill.Sum(d => Math.Max(0, d.Value - remembered[d.Key]));
            var overLimit = dunno.Values.Sum(n => Math.Max(0, n - Limit));

            output.WriteLine($"{Senders * PerSender} DATA requests for {Senders} accounts, each limited to {Limit} per hour then DEFER; killed (SIGKILL) after {dunnoAtKill.Values.Sum()} DUNNO answers");
            output.WriteLine($"requests whose answer never came (asked again): {unanswered.Values.Sum()}");
            output.WriteLine($"DUNNO per account before the kill / counted after the restart: {string.Join(", ", dunnoAtKill.OrderBy(d => d.Key).Select(d => $"{d.Key} {d.Value}/{remembered[d.Key]}"))}");
            output.WriteLine($"DUNNO per account in all: {string.Join(", ", dunno.OrderBy(d => d.Key).Select(d => $"{d.Key} {d.Value}"))}");
            output.WriteLine($"lost: {lost}");
            output.WriteLine($"over-limit: {overLimit}");

            Assert.Equal(0, lost);
            Assert.Equal(0, overLimit);
            Assert.Equal(Senders, dunno.Count);

            // A request counted just before the kill whose answer never came may cost its account one DUNNO.
            Assert.All(dunno, d => Assert.InRange(d.Value, Limit - unanswered.GetValueOrDefault(d.Key), Limit));
        }
        catch
        {
            foreach (var line in log.TakeLast(40))
            {
                output.WriteLine(line);
            }

            throw;
        }
        finally
        {
            resume.TrySetResult();
            await FloodgateProcess.StopAsync(floodgate);
            Directory.Delete(folder, recursive: true);
        }

        async Task SendAsync()
        {
            PolicyClient? client = null;
            try
            {
                while (plan.TryDequeue(out var request))
                {
                    while (true)
                    {
                        try
                        {
                            client ??= await PolicyClient.ConnectAsync(endpoint);
                            var action = await client.AskAsync(PolicyClient.Request("DATA", request.Account, request.Account, 1, request.Instance));
                            if (action == "CLOSED")
                            {
                                throw new IOException("closed");
                            }

                            lock (dunno)
                            {
                                if (action == "DUNNO")
                                {
                                    dunno.AddOrUpdate(request.Account, 1, (_, n) => n + 1);
                                }
                            }

                            if (Interlocked.Increment(ref answers) >= KillAfterAnswers)
                            {
                                killAt.TrySetResult();
                            }

                            break;
                        }
                        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                        {
                            if (client is not null)
                            {
                                unanswered.AddOrUpdate(request.Account, 1, (_, n) => n + 1);
                                await client.DisposeAsync();
                                client = null;
                            }

                            await resume.Task;
                            await Task.Delay(50);
                        }
                    }
                }
            }
            finally
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }
        }
    }

    private static T[] Shuffled<T>(Func<int, T> item)
    {
        var items = Enumerable.Range(0, Senders * PerSender).Select(item).ToArray();
        new Random(12).Shuffle(items);
        return items;
    }

    private static MimeMessage Mime(string sender, string messageId)
    {
        var message = new MimeMessage { MessageId = messageId, Subject = $"count test {messageId}" };
        message.From.Add(MailboxAddress.Parse(sender));
        message.To.Add(MailboxAddress.Parse("someone@remote.example"));
        message.Body = new TextPart("plain") { Text = $"{messageId}\n" };
        return message;
    }

}
