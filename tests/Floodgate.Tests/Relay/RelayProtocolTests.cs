using System.Diagnostics;
using System.Net;
using Floodgate.Quarantine;
using Floodgate.Relay;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Tests.Relay;

/// <summary>The relay's SMTP dialogue, driven by raw sockets, MailKit's client and swaks against a real in-process server.</summary>
public sealed class RelayProtocolTests
{
    private const string Password = "correct horse battery staple";
    private static readonly Lazy<string> PasswordHash = new(() => RelayPassword.Hash(Password));

    // The next hop is a port nobody listens on: accepted mail stays queued, which these tests do not look at.
    private static string Config(string relay = "", string limits = "") =>
        (limits.Length > 0 ? limits : "limits:\n  - { name: hourly, scope: account, unit: messages, max: 1000, per: 1h, action: suspend }\n")
        + $"relay:\n  hostname: relay.test\n  next_hop: {{ host: 127.0.0.1, port: {FreePort.Next()}, tls: none, retry_delay: 1h }}\n"
        + $"  users:\n    - {{ name: kerio, password_hash: \"{PasswordHash.Value}\" }}\n" + relay;

    private static Task<TestServer> StartAsync(string relay = "", string limits = "") =>
        TestServer.StartAsync(Config(relay, limits), relay: ["127.0.0.1:0"]);

    [Fact]
    public async Task Relay_AnswersTheWholeCommandSet()
    {
        await using var server = await StartAsync();
        var (smtp, greeting) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var _ = smtp;
        Assert.StartsWith("220 relay.test ESMTP", greeting);
        Assert.StartsWith("503 5.5.1", await smtp.AskAsync("MAIL FROM:<a@example.com>"));
        var ehlo = await smtp.AskAsync("EHLO client.example.net");
        Assert.StartsWith("250-relay.test greets client.example.net [127.0.0.1]", ehlo);
        foreach (var extension in new[] { "PIPELINING", "SIZE 26214400", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "HELP" })
        {
            Assert.Contains(extension, ehlo.Split('\n').Select(l => l[4..]));
        }

        Assert.DoesNotContain("AUTH", ehlo, StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0", await smtp.AskAsync("NOOP"));
        Assert.StartsWith("252 2.5.2", await smtp.AskAsync("VRFY bob"));
        Assert.StartsWith("214 2.0.0", await smtp.AskAsync("HELP"));
        Assert.StartsWith("503 5.5.1", await smtp.AskAsync("RCPT TO:<b@example.net>"));
        Assert.StartsWith("503 5.5.1", await smtp.AskAsync("DATA"));
        Assert.StartsWith("501 5.5.4", await smtp.AskAsync("MAIL FROM:a@example.com"));
        Assert.StartsWith("555 5.5.4", await smtp.AskAsync("MAIL FROM:<a@example.com> BODY=BINARYMIME"));
        Assert.StartsWith("250 2.1.0", await smtp.AskAsync("MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8"));
        Assert.StartsWith("503 5.5.1", await smtp.AskAsync("MAIL FROM:<a@example.com>"));
        Assert.StartsWith("501 5.5.4", await smtp.AskAsync("RCPT TO:<>"));
        Assert.StartsWith("250 2.1.5", await smtp.AskAsync("RCPT TO:<b@example.net>"));
        Assert.StartsWith("250 2.0.0", await smtp.AskAsync("RSET"));
        Assert.StartsWith("503 5.5.1", await smtp.AskAsync("DATA"));
        Assert.StartsWith("250 relay.test", await smtp.AskAsync("HELO client.example.net"));
        Assert.StartsWith("500 5.5.2", await smtp.AskAsync("BDAT 10 LAST"));
        Assert.Equal("221 2.0.0 relay.test Bye\nCLOSED", await smtp.AskAsync("QUIT") + "\n" + await smtp.ReplyAsync());
    }

    [Fact]
    public async Task Relay_AnswersPipelinedCommandsInOrder()
    {
        await using var server = await StartAsync();
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.SendAsync("EHLO client.example.net\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n");
        Assert.StartsWith("250-relay.test", await smtp.ReplyAsync());
        Assert.StartsWith("250 2.1.0", await smtp.ReplyAsync());
        Assert.StartsWith("250 2.1.5", await smtp.ReplyAsync());
        Assert.StartsWith("250 2.1.5", await smtp.ReplyAsync());
        Assert.StartsWith("354", await smtp.ReplyAsync());

        // The end of data, the next transaction and QUIT in one write: every answer comes, in order.
        await smtp.SendAsync("Subject: one\r\n\r\n..a stuffed line\r\n.\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
        var queued = await smtp.ReplyAsync();
        Assert.StartsWith("250 2.0.0 Ok: queued as ", queued);
        Assert.StartsWith("250 2.1.0", await smtp.ReplyAsync());
        Assert.StartsWith("250 2.1.5", await smtp.ReplyAsync());
        Assert.StartsWith("354", await smtp.ReplyAsync());
        await smtp.SendAsync("Subject: two\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await smtp.ReplyAsync());
        Assert.StartsWith("221", await smtp.ReplyAsync());

        var id = queued["250 2.0.0 Ok: queued as ".Length..];
        var spool = server.Service<MessageSpool>();
        var content = await File.ReadAllTextAsync(Path.Combine(spool.Directory, id + ".eml"));
        Assert.StartsWith("Received: from client.example.net ([127.0.0.1])\r\n\tby relay.test (Floodgate) with ESMTP id " + id, content);
        Assert.EndsWith("Subject: one\r\n\r\n.a stuffed line\r\n", content);
        var envelope = spool.Read().Single(m => m.Id == id);
        Assert.Equal(["b@example.net", "c@example.org"], envelope.Recipients);
        Assert.Equal("alice@example.com", envelope.Sender);
        Assert.Equal("one", envelope.Subject);
    }

    [Fact]
    public async Task Relay_OffersAuthOnlyAfterStartTls_AndAcceptsTheLogin()
    {
        await using var server = await StartAsync();

        using (var plain = new SmtpClient())
        {
            await plain.ConnectAsync(server.Relay.Address.ToString(), server.Relay.Port, SecureSocketOptions.None);
            Assert.True(plain.Capabilities.HasFlag(SmtpCapabilities.StartTLS));
            Assert.False(plain.Capabilities.HasFlag(SmtpCapabilities.Authentication));
        }

        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using (smtp)
        {
            await smtp.AskAsync("EHLO client.example.net");
            Assert.StartsWith("538 5.7.11", await smtp.AskAsync("AUTH PLAIN " + Convert.ToBase64String("\0kerio\0x"u8.ToArray())));
        }

        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=relay.test" };
        await client.ConnectAsync(server.Relay.Address.ToString(), server.Relay.Port, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.Contains("PLAIN", client.AuthenticationMechanisms);
        Assert.Contains("LOGIN", client.AuthenticationMechanisms);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("kerio", "wrong password"));
        await client.AuthenticateAsync("kerio", Password);
        await client.SendAsync(Message("alice@example.com", "bob@example.net", "over TLS"));
        await client.DisconnectAsync(quit: true);

        var held = server.Service<MessageSpool>().Read().Single();
        Assert.Equal("kerio", held.Login);
        Assert.Equal("account:kerio", held.CountedAs);
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Relay_AcceptsSwaksWithTlsAndAuthLogin()
    {
        await using var server = await StartAsync("  identity: sender\n");
        var swaks = await RunAsync("swaks", $"--server 127.0.0.1:{server.Relay.Port} --tls --auth LOGIN --auth-user kerio --auth-password \"{Password}\" "
            + "--from alice@example.com --to bob@example.net --header \"Subject: from swaks\" --pipeline");
        Assert.True(swaks.Code == 0, swaks.Output);
        Assert.Contains("235 2.7.0 Authentication successful", swaks.Output);
        var message = server.Service<MessageSpool>().Read().Single();
        Assert.Equal("account:alice@example.com", message.CountedAs);
        Assert.Equal("from swaks", message.Subject);
    }

    [Fact]
    public async Task Relay_EnforcesTheSizeLimitWhileReadingData()
    {
        await using var server = await StartAsync("  max_message_bytes: 10000\n");
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        Assert.Contains("SIZE 10000", await smtp.AskAsync("EHLO client.example.net"));
        Assert.StartsWith("552 5.3.4", await smtp.AskAsync("MAIL FROM:<alice@example.com> SIZE=20000"));
        await smtp.AskAsync("MAIL FROM:<alice@example.com>");
        await smtp.AskAsync("RCPT TO:<bob@example.net>");
        Assert.StartsWith("354", await smtp.AskAsync("DATA"));

        // Four megabytes, more than the limit many times over, then the end: one 552 and the session goes on.
        var line = new string('x', 998) + "\r\n";
        for (var i = 0; i < 4000; i++)
        {
            await smtp.SendAsync(line);
        }

        Assert.StartsWith("552 5.3.4", await smtp.AskAsync("."));
        Assert.StartsWith("250 2.0.0", await smtp.AskAsync("NOOP"));
        Assert.Empty(Directory.EnumerateFiles(server.Service<MessageSpool>().Directory));
    }

    [Fact]
    public async Task Relay_LimitsRecipientsPerMessage()
    {
        await using var server = await StartAsync("  max_recipients: 3\n");
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.AskAsync("EHLO client.example.net");
        await smtp.AskAsync("MAIL FROM:<alice@example.com>");
        for (var i = 0; i < 3; i++)
        {
            Assert.StartsWith("250 2.1.5", await smtp.AskAsync($"RCPT TO:<r{i}@example.net>"));
        }

        Assert.StartsWith("452 4.5.3", await smtp.AskAsync("RCPT TO:<r3@example.net>"));
        Assert.StartsWith("354", await smtp.AskAsync("DATA"));
        Assert.StartsWith("250 2.0.0", await smtp.AskAsync("Subject: x\r\n\r\nbody\r\n."));
        Assert.Equal(3, server.Service<MessageSpool>().Read().Single().Recipients.Count);
    }

    [Fact]
    public async Task Relay_ClosesSessionsWithTooManyBadCommands_AndRefusesOverlongLines()
    {
        await using var server = await StartAsync("  max_bad_commands: 3\n  max_line_bytes: 1000\n");
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        Assert.StartsWith("500 5.5.2 Line too long", await smtp.AskAsync("EHLO " + new string('a', 5000)));
        Assert.StartsWith("250", await smtp.AskAsync("EHLO client.example.net"));
        Assert.StartsWith("500 5.5.2", await smtp.AskAsync("GET / HTTP/1.1"));
        Assert.StartsWith("500 5.5.2", await smtp.AskAsync("User-Agent: curl"));
        Assert.Equal("421 4.7.0 relay.test Too many errors, closing connection\nCLOSED", await smtp.AskAsync("Host: x") + "\n" + await smtp.ReplyAsync());
    }

    [Fact]
    public async Task Relay_ClosesIdleSessions()
    {
        await using var server = await StartAsync("  idle_timeout: 1s\n");
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.AskAsync("EHLO client.example.net");
        var started = Stopwatch.StartNew();
        Assert.StartsWith("421 4.4.2", await smtp.ReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(8));
        Assert.Equal("CLOSED", await smtp.ReplyAsync());
    }

    [Fact]
    public async Task Relay_ClosesAClientThatPipelinesButNeverReadsItsAnswers()
    {
        await using var server = await StartAsync("  idle_timeout: 1s\n");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Tcp)
        { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.Relay);

        // Two megabytes of NOOPs, answers never read: the relay must not hold them (or the connection) forever.
        var flood = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("NOOP\r\n", 350_000)));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sending = socket.SendAsync(flood, System.Net.Sockets.SocketFlags.None, stop.Token).AsTask();
        var handler = server.Service<Floodgate.Hosting.RelayListeners>().Handlers[0].Handler;
        await Floodgate.Tests.Alerts.Eventually.TrueAsync(() => handler.Connections == 1, "the connection to be open");
        await Floodgate.Tests.Alerts.Eventually.TrueAsync(() => handler.Connections == 0, "the relay to close the connection of a client that does not read", seconds: 15);
        Assert.Contains(server.Logs.Lines, l => l.Contains("not reading answers", StringComparison.Ordinal));
        await Task.WhenAny(sending, Task.Delay(1000));
    }

    [Fact]
    public async Task Relay_RefusesLoginsFromAnAddressAfterTooManyFailures()
    {
        await using var server = await StartAsync("  max_bad_commands: 100\n");
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=relay.test" };
        await client.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.StartTls);
        for (var i = 0; i < RelayPassword.MaxFailures; i++)
        {
            await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("kerio", $"guess {i}"));
        }

        // Now even the right password is refused from this address, without the slow hash being run.
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => client.AuthenticateAsync("kerio", Password));
        Assert.Contains("Too many failed logins", refused.Message, StringComparison.Ordinal);
        Assert.Empty(server.Service<MessageSpool>().Read());
    }

    [Fact]
    public async Task Relay_ParallelWrongLogins_AreCheckedAtMostUpToTheThrottle()
    {
        await using var server = await StartAsync();
        var clients = Enumerable.Range(0, 40).Select(_ => new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=relay.test" }).ToList();
        try
        {
            await Task.WhenAll(clients.Select(c => c.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.StartTls)));

            // One AUTH PLAIN each (MailKit would otherwise go on with LOGIN after a refusal).
            clients.ForEach(c => c.AuthenticationMechanisms.Remove("LOGIN"));

            // All 40 guesses are in flight at once: each must have reserved its attempt before its hash runs.
            var answers = await Task.WhenAll(clients.Select(async (c, i) =>
            {
                var refused = await Assert.ThrowsAnyAsync<Exception>(() => c.AuthenticateAsync("kerio", $"guess {i}"));
                return refused.Message;
            }));
            var checkedGuesses = answers.Count(a => !a.Contains("Too many failed logins", StringComparison.Ordinal));
            Assert.Equal(RelayPassword.MaxFailures, checkedGuesses);
            Assert.Equal(RelayPassword.MaxFailures, server.Logs.Lines.Count(l => l.Contains("failed AUTH from 127.0.0.1", StringComparison.Ordinal)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Relay_AcceptsPostmasterWithoutADomain()
    {
        await using var server = await StartAsync();
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.AskAsync("EHLO client.example.net");
        await smtp.AskAsync("MAIL FROM:<alice@example.com>");
        Assert.StartsWith("250 2.1.5", await smtp.AskAsync("RCPT TO:<Postmaster>"));
        Assert.StartsWith("501 5.5.4", await smtp.AskAsync("RCPT TO:<bob>"));
    }

    [Fact]
    public async Task Relay_IsNotAnOpenRelay_ForClientsOutsideItsNetworks()
    {
        // 127.0.0.2 is another loopback address: here it stands for a client on the Internet.
        await using var server = await StartAsync("  networks: [127.0.0.1/32]\n");
        var (stranger, _) = await SmtpDialog.ConnectAsync(server.Relay, IPAddress.Parse("127.0.0.2"));
        await using (stranger)
        {
            Assert.Contains("[127.0.0.2]", await stranger.AskAsync("EHLO spammer.example"));
            Assert.StartsWith("530 5.7.0 Authentication required", await stranger.AskAsync("MAIL FROM:<spam@example.com>"));
            Assert.StartsWith("503 5.5.1", await stranger.AskAsync("RCPT TO:<victim@example.net>"));
            Assert.StartsWith("503 5.5.1", await stranger.AskAsync("DATA"));
        }

        var swaks = await RunAsync("swaks", $"--server 127.0.0.1:{server.Relay.Port} --local-interface 127.0.0.2 --from spam@example.com --to victim@example.net");
        Assert.NotEqual(0, swaks.Code);
        Assert.Contains("530 5.7.0", swaks.Output);

        // The same client with a relay login may send.
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=relay.test", LocalEndPoint = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0) };
        await client.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("kerio", Password);
        await client.SendAsync(Message("alice@example.com", "bob@example.net", "logged in"));
        Assert.Equal("127.0.0.2", server.Service<MessageSpool>().Read().Single().ClientAddress);
    }

    [Fact]
    public async Task Relay_LimitsConnectionsPerAddress()
    {
        await using var server = await StartAsync("  max_connections_per_address: 2\n");
        var (first, _) = await SmtpDialog.ConnectAsync(server.Relay);
        var (second, _) = await SmtpDialog.ConnectAsync(server.Relay);
        var (third, refused) = await SmtpDialog.ConnectAsync(server.Relay);
        Assert.StartsWith("421 4.7.0", refused);
        await third.DisposeAsync();
        await first.AskAsync("QUIT");
        await first.DisposeAsync();
        // The freed slot is taken by the next connection once the server has seen the first one go.
        await Floodgate.Tests.Alerts.Eventually.TrueAsync(() => server.Service<Floodgate.Hosting.RelayListeners>().Handlers[0].Handler.Connections <= 1,
            "the first connection to be closed");
        var (again, greeting) = await SmtpDialog.ConnectAsync(server.Relay);
        await again.DisposeAsync();
        Assert.StartsWith("220", greeting);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Relay_HoldsASuspendedAccountsMail_AndAnswersRejectLimits_AndHoldsAMessageNoWindowCanTake()
    {
        const string limits = "limits:\n"
            + "  - { name: burst, scope: account, unit: recipients, max: 5, per: 1m, action: defer }\n"
            + "  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }\n"
            + "  - { name: domain, scope: sender_domain, unit: messages, max: 1, per: 1h, action: reject }\n"
            + "overrides:\n  \"flood.example\": { domain: 100 }\n";
        await using var server = await StartAsync(limits: limits);
        using var client = new SmtpClient();
        await client.ConnectAsync(server.Relay.Address.ToString(), server.Relay.Port, SecureSocketOptions.None);

        // Six recipients against a defer limit of five a minute: no window will ever take it, so it is held for review.
        var big = Message("bob@big.example", "x@example.net", "too many recipients");
        big.To.AddRange(Enumerable.Range(0, 6).Select(i => new MailboxAddress("", $"r{i}@example.net")));
        await client.SendAsync(big);
        var bigHeld = Assert.Single(server.Service<RelayQuarantine>().List("bob@big.example"));
        Assert.False(bigHeld.Delayed);
        Assert.Contains("more than the limit allows", bigHeld.HeldReason);

        await client.SendAsync(Message("carol@small.example", "x@example.net", "first"));
        var rejected = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("dave@small.example", "x@example.net", "second")));
        Assert.Equal(550, (int)rejected.StatusCode);

        for (var i = 0; i < 6; i++)
        {
            await client.SendAsync(Message("alice@flood.example", $"victim{i}@example.net", $"Cheap pills {i}"));
        }

        var quarantine = server.Service<RelayQuarantine>();
        var held = quarantine.List("alice@flood.example");
        Assert.Equal(3, held.Count);
        Assert.All(held, m => Assert.Equal("account:alice@flood.example", m.HeldFor));
        Assert.Equal(["Cheap pills 3", "Cheap pills 4", "Cheap pills 5"], held.Select(m => m.Subject));
        var incident = server.Service<Floodgate.Incidents.IncidentBook>().OpenIncidents.Single();
        Assert.Contains("Cheap pills 4", incident.Evidence.Subjects);
        Assert.Equal(3, incident.Evidence.RecipientDomains["example.net"]);
    }

    [Fact]
    public async Task Relay_DelaysMailOverADeferLimit_AndLetsItGoOnceTheWindowHasRoom()
    {
        // The upstream server is answered 250 (its queue drains); the message waits in the quarantine as delayed.
        const string limits = "limits:\n  - { name: burst, scope: account, unit: recipients, max: 3, per: 2s, action: defer }\n";
        await using var server = await StartAsync(limits: limits);
        using var client = new SmtpClient();
        await client.ConnectAsync(server.Relay.Address.ToString(), server.Relay.Port, SecureSocketOptions.None);
        for (var i = 0; i < 3; i++)
        {
            var message = Message("eve@busy.example", "a@example.net", $"update {i}");
            message.To.Add(new MailboxAddress("", "b@example.net"));
            await client.SendAsync(message);
        }

        var quarantine = server.Service<RelayQuarantine>();
        var delayed = quarantine.List("eve@busy.example");
        Assert.Equal(["update 1", "update 2"], delayed.Select(m => m.Subject));
        Assert.All(delayed, m => Assert.True(m.Delayed));
        Assert.All(delayed, m => Assert.StartsWith("delayed until the window has room", m.HeldReason));

        // Each 2 s window takes one more of them, oldest first, counted as it goes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (quarantine.List("eve@busy.example").Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Empty(quarantine.List("eve@busy.example"));
        var released = server.DecisionLines.Where(l => l.Contains("state=DELAYED", StringComparison.Ordinal) && l.Contains("verdict=accept", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, released.Count);

        // Waiting is not news: a delayed message that is still deferred at a retry writes no line of its own.
        Assert.DoesNotContain(server.DecisionLines, l => l.Contains("state=DELAYED", StringComparison.Ordinal) && l.Contains("verdict=defer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Relay_RecoversItsSpoolAfterARestart()
    {
        var data = Directory.CreateTempSubdirectory("floodgate-relay-data-").FullName;
        const string limits = "limits:\n  - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: suspend }\n";
        var config = Config(limits: limits);
        await using (var first = await TestServer.StartAsync(config, relay: ["127.0.0.1:0"], dataDirectory: data))
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", first.Relay.Port, SecureSocketOptions.None);
            for (var i = 0; i < 5; i++)
            {
                await client.SendAsync(Message("alice@example.com", "bob@example.net", $"message {i}"));
            }
        }

        // A message half-received when the process stopped was never acknowledged: its file goes. An envelope that
        // cannot be read (say, written by a newer version) is set aside, its acknowledged content kept.
        await File.WriteAllTextAsync(Path.Combine(data, "spool", "0000dead.eml"), "Subject: never acknowledged\r\n\r\n");
        var spool = Path.Combine(data, "spool");
        var damaged = Directory.EnumerateFiles(spool, "*.json").Order(StringComparer.Ordinal).Last();
        await File.WriteAllTextAsync(damaged, (await File.ReadAllTextAsync(damaged)).Replace("\"Held\"", "\"Bounced\"", StringComparison.Ordinal));
        await using var second = await TestServer.StartAsync(config, relay: ["127.0.0.1:0"], dataDirectory: data);
        Assert.Equal(2, second.Service<RelayQuarantine>().Count);
        Assert.Equal(2, second.Service<Floodgate.Relay.Delivery.OutboundQueue>().Depth);
        Assert.False(File.Exists(Path.Combine(spool, "0000dead.eml")));
        Assert.True(File.Exists(damaged + ".unreadable"));
        Assert.True(File.Exists(Path.ChangeExtension(damaged, ".eml")));
        Assert.Contains(second.Logs.Lines, l => l.Contains("2 queued and 2 held messages recovered", StringComparison.Ordinal));
        Assert.Contains(second.Logs.Lines, l => l.Contains("is kept", StringComparison.Ordinal));
    }

    internal static MimeMessage Message(string from, string to, string subject) => new()
    {
        From = { MailboxAddress.Parse(from) },
        To = { MailboxAddress.Parse(to) },
        Subject = subject,
        Body = new TextPart("plain") { Text = $"{subject}\n" },
    };

    private static async Task<(int Code, string Output)> RunAsync(string program, string arguments)
    {
        if (!File.Exists("/usr/bin/" + program))
        {
            Assert.Fail($"/usr/bin/{program} is missing: install Debian's {program} package (./test.sh does)");
        }

        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
