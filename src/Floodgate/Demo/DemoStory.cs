using System.CommandLine;
using System.Globalization;
using Floodgate.Admin;
using Floodgate.Cli;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Quarantine;
using Floodgate.Relay.Delivery;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Demo;

/// <summary>
/// <c>floodgate demo</c>: the story in about a minute. A private Floodgate in a temporary folder relays to a next hop
/// of its own that counts what arrives; two people send normally while a hijacked account starts blasting; the limit
/// suspends it, its mail is held, the admin's alert arrives, and the release with purge clears the quarantine.
/// </summary>
public static class DemoStory
{
    public const string Hijacked = "carol@example.com";
    public const int HourlyLimit = 25;
    public const int HijackedMessages = 150;
    public const int NormalMessages = 8;

    private const string Admin = "postmaster@example.com";
    private static readonly string[] NormalUsers = ["alice@example.com", "bob@example.com"];

    /// <summary>Runs the story, writing its narration to <paramref name="output"/>; everything it made is removed at the end or on cancellation.</summary>
    /// <param name="output">Where the narration goes.</param>
    /// <param name="quick">No pauses for reading (for scripts and tests).</param>
    /// <param name="live">Rewrite the progress line in place (a terminal) instead of printing a line per change.</param>
    /// <param name="waitForEnter">At the end, keep the dashboard up until Enter is pressed.</param>
    /// <param name="cancel">Ctrl+C: stop the story and clean up.</param>
    public static async Task<DemoOutcome> RunAsync(TextWriter output, bool quick, bool live, bool waitForEnter, CancellationToken cancel)
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-demo-").FullName;
        await using var nextHop = DemoMailbox.Start();
        await using var mailbox = DemoMailbox.Start();
        WebApplication? app = null;
        try
        {
            var adminPort = FreeLoopbackPort();
            var options = ConfigLoader.Parse(Configuration(folder, adminPort, nextHop, mailbox), "demo.yml");
            app = FloodgateHost.Build(options, logging: _ => { });
            await app.StartAsync(cancel);
            var dashboard = $"http://127.0.0.1:{adminPort}/";
            var relay = app.Services.GetRequiredService<RelayListeners>().BoundEndpoints.First();
            var password = (await File.ReadAllTextAsync(app.Services.GetRequiredService<AdminPassword>().Path, cancel)).Trim();
            var token = app.Services.GetRequiredService<AdminToken>().Value;
            async Task Pause(int milliseconds)
            {
                if (!quick)
                {
                    await Task.Delay(milliseconds, cancel);
                }
            }

            await output.WriteLineAsync($"""
                Floodgate demo: a hijacked mail account starts blasting, and Floodgate contains it.

                  A private Floodgate runs in {folder}
                  with its SMTP relay on {relay}, delivering to a next hop of its own that counts what arrives
                  ({nextHop.Endpoint}). Its one limit: at most {HourlyLimit} messages per account per hour, then the
                  account is suspended: its mail is held (accepted, kept, not delivered) and the admin is alerted once.

                  Dashboard while the demo runs: {dashboard}   password: {password}

                  {NormalUsers[0]} and {NormalUsers[1]} send {NormalMessages} messages each, as people do.
                  {Hijacked}'s password was phished: it starts sending {HijackedMessages} messages as fast as it can.

                """);
            await Pause(4000);

            var quarantine = app.Services.GetRequiredService<RelayQuarantine>();
            var accounts = app.Services.GetRequiredService<IAccountStore>();
            var outbound = app.Services.GetRequiredService<OutboundQueue>();
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var normal = NormalUsers.Select(u => SendAsync(relay, u, 1, NormalMessages, quick ? 0 : 1200, "Minutes of Tuesday's meeting", 1, sending.Token)).ToList();
            await Pause(2500);
            var blast = Enumerable.Range(0, 2).Select(c => SendAsync(relay, Hijacked, 1 + (c * HijackedMessages / 2), HijackedMessages / 2, quick ? 0 : 100,
                "Your invoice is overdue", 3, sending.Token)).ToList();
            var all = Task.WhenAll(normal.Concat(blast));

            // Live progress until every message is sent and every accepted one has reached the next hop.
            Suspension? suspension = null;
            var last = "";
            while (!all.IsCompleted || outbound.Depth > 0)
            {
                suspension ??= await ReportSuspensionAsync(accounts, output, live, nextHop);
                var line = Progress(nextHop, quarantine);
                if (line != last)
                {
                    await output.WriteAsync(live ? $"\r  {line}\u001b[K" : $"  {line}\n");
                    last = line;
                }

                await Task.WhenAny(all, Task.Delay(live ? 100 : 500, cancel));
                cancel.ThrowIfCancellationRequested();
            }

            await all;
            suspension ??= await ReportSuspensionAsync(accounts, output, live, nextHop);
            await output.WriteAsync(live ? $"\r  {Progress(nextHop, quarantine)}\u001b[K\n\n" : $"  {Progress(nextHop, quarantine)}\n\n");
            var delivered = nextHop.CountFrom(Hijacked);
            var held = quarantine.List(Hijacked).Count;
            var normalDelivered = NormalUsers.Sum(nextHop.CountFrom);
            await Pause(2500);

            await output.WriteLineAsync($"The alert, as the admin got it (an email to {Admin}):\n");
            var alert = await WaitForAlertAsync(mailbox, cancel);
            await output.WriteLineAsync(Indent($"Subject: {alert.Subject}\n\n{alert.TextBody?.TrimEnd()}"));
            await output.WriteLineAsync();
            await Pause(5000);

            await output.WriteLineAsync("The incident (floodgate incidents; floodgate incidents 1 shows all of it):\n");
            await output.WriteLineAsync(Indent(await CliAsync(dashboard, token, "incidents")));
            var incident = app.Services.GetRequiredService<Incidents.IncidentBook>().OpenIncidents.First(i => i.Identity.Key == Hijacked);
            await output.WriteLineAsync(Indent(Evidence(incident.Evidence)));
            await output.WriteLineAsync();
            await Pause(4000);

            await output.WriteLineAsync($"The quarantine (floodgate quarantine list --account {Hijacked}):\n");
            var listing = (await CliAsync(dashboard, token, "quarantine", "list", "--account", Hijacked)).Split('\n');
            await output.WriteLineAsync(Indent(string.Join('\n', listing.Take(6))
                + (listing.Length > 6 ? $"\n... {held} held messages in all" : "")));
            await output.WriteLineAsync();
            await Pause(4000);

            await output.WriteLineAsync($"The admin has seen enough: floodgate release {Hijacked} --purge\n");
            await output.WriteLineAsync(Indent(await CliAsync(dashboard, token, "release", Hijacked, "--purge")) + "\n");
            var purged = held - quarantine.List(Hijacked).Count;
            await Pause(1500);

            var normalSent = NormalUsers.Length * NormalMessages;
            var normalWord = normalDelivered == normalSent ? "all delivered" : "not all delivered";
            await output.WriteLineAsync(
                $"Summary: hijacked account: {delivered} delivered before containment, {purged} held and purged; normal users: {normalWord} ({normalDelivered} of {normalSent})");
            if (waitForEnter)
            {
                await output.WriteLineAsync($"\nThe dashboard stays up until you press Enter (or Ctrl+C): {dashboard}  (password {password})");
                // Ctrl+C read as a key here: reading keys puts the terminal where the signal no longer reaches the process.
                var treated = Console.TreatControlCAsInput;
                Console.TreatControlCAsInput = true;
                try
                {
                    while (!Console.KeyAvailable || Console.ReadKey(intercept: true) is not ({ Key: ConsoleKey.Enter } or { Key: ConsoleKey.C, Modifiers: ConsoleModifiers.Control }))
                    {
                        await Task.Delay(100, cancel);
                    }
                }
                finally
                {
                    Console.TreatControlCAsInput = treated;
                }
            }

            return new DemoOutcome(HijackedMessages, delivered, held, purged, normalSent, normalDelivered, nextHop.Received);
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
            await output.WriteLineAsync($"\nDemo ended: its Floodgate is stopped and {folder} is removed.");
        }
    }

    private static string Configuration(string folder, int adminPort, DemoMailbox nextHop, DemoMailbox mailbox) => $"""
        listen:
          policy: ["127.0.0.1:0"]
          admin: "127.0.0.1:{adminPort}"
          relay: ["127.0.0.1:0"]
        data_dir: "{folder}"
        log:
          decisions: none
        limits:
          - {"{"} name: hourly, scope: account, unit: messages, max: {HourlyLimit}, per: 1h, action: suspend {"}"}
        relay:
          hostname: demo.floodgate.test
          networks: [127.0.0.0/8]
          next_hop: {"{"} host: 127.0.0.1, port: {nextHop.Endpoint.Port}, tls: none, concurrency: 4 {"}"}
        alerts:
          email: {"{"} to: ["{Admin}"], from: "floodgate@example.com", host: 127.0.0.1, port: {mailbox.Endpoint.Port}, tls: none {"}"}
          dashboard_url: "http://127.0.0.1:{adminPort}/"
        """;

    private static string Evidence(IncidentEvidence evidence)
    {
        static string Top(Dictionary<string, long> counts) =>
            string.Join(", ", counts.OrderByDescending(c => c.Value).Take(3).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} ({c.Value})")));
        return string.Create(CultureInfo.InvariantCulture, $"""
            evidence: counters when suspended: {string.Join(", ", evidence.Counters.Select(c => $"{c.Rule} {c.Count} of {c.Max} {c.Unit} per {c.Window}"))}
                      refused since: {evidence.RefusedMessages} messages, {evidence.RefusedRecipients} recipients
                      client addresses: {Top(evidence.ClientAddresses)}; recipient domains: {Top(evidence.RecipientDomains)}
                      sample subjects: {string.Join(", ", evidence.Subjects.Take(3).Select(s => $"\"{s}\""))}
            """);
    }

    private static string Progress(DemoMailbox nextHop, RelayQuarantine quarantine) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{TimeProvider.System.GetLocalNow():HH:mm:ss}  delivered: {string.Join("  ", NormalUsers.Append(Hijacked).Select(u => $"{u.Split('@')[0]} {nextHop.CountFrom(u)}"))}   held: {Hijacked.Split('@')[0]} {quarantine.List(Hijacked).Count}");

    private static async Task<Suspension?> ReportSuspensionAsync(IAccountStore accounts, TextWriter output, bool live, DemoMailbox nextHop)
    {
        var suspension = (await accounts.ListSuspensionsAsync()).FirstOrDefault(s => s.Identity.Key == Hijacked);
        if (suspension is not null)
        {
            await output.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(live ? "\r\u001b[K" : "")}  >>> {suspension.Since.ToLocalTime():HH:mm:ss} {Hijacked} SUSPENDED by limit {suspension.Rule}: {suspension.Reason}\n      from now on its mail is held; {nextHop.CountFrom(Hijacked)} of its messages had reached the next hop\n"));
        }

        return suspension;
    }

    // One person's (or one spammer connection's) messages, one SMTP session, MailKit as any mail client.
    private static async Task SendAsync(System.Net.IPEndPoint relay, string sender, int first, int count, int gapMilliseconds, string subject,
        int recipients, CancellationToken cancel)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync(relay.Address.ToString(), relay.Port, SecureSocketOptions.None, cancel);
        for (var i = first; i < first + count; i++)
        {
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(sender));
            for (var r = 0; r < recipients; r++)
            {
                message.To.Add(MailboxAddress.Parse($"someone{Random.Shared.Next(1000)}@example.net"));
            }

            message.Subject = $"{subject} #{i}";
            message.Body = new TextPart("plain") { Text = $"Message {i} from {sender}." };
            await client.SendAsync(message, cancel);
            if (gapMilliseconds > 0)
            {
                await Task.Delay(gapMilliseconds, cancel);
            }
        }

        await client.DisconnectAsync(quit: true, cancel);
    }

    private static async Task<MimeMessage> WaitForAlertAsync(DemoMailbox mailbox, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        DemoMailbox.ReceivedMail? mail;
        while ((mail = mailbox.Received.FirstOrDefault()) is null)
        {
            try
            {
                await Task.Delay(100, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new InvalidOperationException("the alert did not arrive in the admin's mailbox within 30 s");
            }
        }

        return await MimeMessage.LoadAsync(new MemoryStream(mail.Content), cancel);
    }

    // The admin's own commands, run in-process against the demo's admin API, printing what they print.
    private static async Task<string> CliAsync(string url, string token, params string[] args)
    {
        using var text = new StringWriter();
        await FloodgateCommands.Build().Parse([.. args, "--url", url, "--token", token]).InvokeAsync(new InvocationConfiguration { Output = text, Error = text });
        return text.ToString().TrimEnd();
    }

    private static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l));

    private static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
