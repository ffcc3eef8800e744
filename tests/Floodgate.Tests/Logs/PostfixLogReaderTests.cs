using System.IO.Compression;
using Floodgate.Logs;

namespace Floodgate.Tests.Logs;

public class PostfixLogReaderTests
{
    private static List<LoggedMessage> ReadAll(IEnumerable<string> lines, int year = 2026)
    {
        var reader = new PostfixLogReader(year);
        var messages = lines.SelectMany(reader.Read).ToList();
        messages.AddRange(reader.Finish());
        return messages;
    }

    private static string[] Message(string stamp, string program, string id, string login, string sender, string to, string agent = "smtp") =>
    [
        $"{stamp} mx {program}/smtpd[101]: {id}: client=laptop.example[192.0.2.7], sasl_method=PLAIN, sasl_username={login}",
        $"{stamp} mx {program}/cleanup[102]: {id}: message-id=<{id}@laptop.example>",
        $"{stamp} mx {program}/qmgr[103]: {id}: from=<{sender}>, size=1234, nrcpt=1 (queue active)",
        $"{stamp} mx {program}/{agent}[104]: {id}: to=<{to}>, relay=mx.remote.example[198.51.100.1]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
        $"{stamp} mx {program}/qmgr[103]: {id}: removed",
    ];

    [Fact]
    public void PostfixReader_RebuildsAMessage_FromClassicSyslog()
    {
        var message = Assert.Single(ReadAll(Message("Dec 01 18:08:18", "postfix", "28D35B24701", "alice@example.com", "alice@example.com", "bob@remote.example")));
        Assert.Equal("28D35B24701", message.QueueId);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 18, 8, 18, TimeSpan.Zero), message.Time);
        Assert.Equal("alice@example.com", message.Login);
        Assert.Equal("192.0.2.7", message.ClientAddress);
        Assert.Equal(1234, message.Size);
        Assert.Equal(1, message.RecipientCount);
        Assert.Equal(new RecipientOutcome("bob@remote.example", "sent", "2.0.0", "smtp"), Assert.Single(message.Recipients));
    }

    [Fact]
    public void PostfixReader_TakesRfc3339Stamps_AnySyslogName_AndInterleavedMessages()
    {
        var a = Message("2026-12-01T18:08:18.123456+00:00", "postfix-submission", "AAAA11111", "alice@example.com", "alice@example.com", "x@remote.example");
        var b = Message("2026-12-01T18:08:19.000001+01:00", "postfix", "BBBB22222", "bob@example.com", "bob@example.com", "y@remote.example");
        var interleaved = a.Zip(b).SelectMany(p => new[] { p.First, p.Second });
        var messages = ReadAll(interleaved);
        Assert.Equal(["AAAA11111", "BBBB22222"], messages.OrderBy(m => m.QueueId).Select(m => m.QueueId));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 17, 8, 19, TimeSpan.Zero).AddTicks(10), messages.Single(m => m.QueueId == "BBBB22222").Time);
    }

    [Fact]
    public void PostfixReader_GivesMessagesInSubmissionOrder_AndMarksHeldOnes()
    {
        var held = new[]
        {
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 1111AAAA: client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=mallory@example.com",
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 1111AAAA: hold: DATA from x[192.0.2.1]: <victim@remote.example>: Data command OK; Floodgate: mallory@example.com over limit hourly; from=<mallory@example.com> to=<victim@remote.example> proto=ESMTP helo=<x>",
        };
        var later = Message("Dec  1 18:00:05", "postfix", "2222BBBB", "alice@example.com", "alice@example.com", "z@remote.example");
        var messages = ReadAll([.. held, .. later]);
        Assert.Equal(["1111AAAA", "2222BBBB"], messages.Select(m => m.QueueId));
        Assert.Equal("hold", messages[0].Action);
        Assert.Equal("mallory@example.com", messages[0].Sender);
    }

    [Fact]
    public void PostfixReader_MarksInboundMail_DeliveredLocallyWithoutLogin()
    {
        string[] inbound =
        [
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 3333CCCC: client=mail.sender.example[203.0.113.5]",
            "Dec  1 18:00:00 mx postfix/qmgr[2]: 3333CCCC: from=<newsletter@sender.example>, size=5000, nrcpt=1 (queue active)",
            "Dec  1 18:00:01 mx postfix/lmtp[3]: 3333CCCC: to=<alice@example.com>, relay=dovecot, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
            "Dec  1 18:00:01 mx postfix/qmgr[2]: 3333CCCC: removed",
        ];
        Assert.True(Assert.Single(ReadAll(inbound)).IsInbound);
    }

    [Fact]
    public void PostfixReader_SkipsAndCountsWhatItCannotUse_NeverThrows()
    {
        var reader = new PostfixLogReader(2026);
        string[] junk =
        [
            "", "x", "Dec 32 18:00:00 mx postfix/smtpd[1]: ABCDEF123: client=x[1.2.3.4]", "Feb 30 18:00:00 mx postfix/smtpd[1]: x",
            "Dec  1 18:00:00 mx kernel: something", "Dec  1 18:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
            "Dec  1 18:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 relay denied",
            "Dec  1 18:00:00 mx postfix/qmgr[1]: FFFF0000: removed", "\u0000\u0001\u0002 postfix/smtpd[1]: \uFFFD",
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 1234567: client=",
        ];
        var messages = junk.SelectMany(reader.Read).Concat(reader.Finish()).ToList();
        Assert.Empty(messages);
        Assert.Equal(junk.Length, reader.Stats.Lines);
        Assert.Equal(junk.Length - 2, reader.Stats.Skipped);
    }

    [Fact]
    public void PostfixReader_ClassicLogAcrossNewYear_MovesToTheNextYear()
    {
        var messages = ReadAll([.. Message("Dec 31 23:59:59", "postfix", "AAAA0001", "a@example.com", "a@example.com", "x@r.example"),
            .. Message("Jan  1 00:00:01", "postfix", "AAAA0002", "a@example.com", "a@example.com", "y@r.example")], 2026);
        Assert.Equal([2026, 2027], messages.Select(m => m.Time.Year));
    }

    [Fact]
    public void PostfixReader_ReadsTheEnvelopeFromTheEnd_NotFromTextTheClientWrote()
    {
        string[] lines =
        [
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 5555EEEE: client=x[203.0.113.9]",
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 5555EEEE: hold: RCPT from x[203.0.113.9]: <\" from=<alice@example.com>\"@evil.example>: Recipient address held; from=<mallory@evil.example> to=<\" from=<alice@example.com>\"@evil.example> proto=ESMTP helo=<x>",
            "Dec  1 18:00:00 mx postfix/smtpd[1]: 6666FFFF: client=x[203.0.113.9]",
            "Dec  1 18:00:01 mx postfix/qmgr[2]: 6666FFFF: from=<\"a, size=1, nrcpt=100000\"@evil.example>, size=900, nrcpt=2 (queue active)",
            "Dec  1 18:00:02 mx postfix/qmgr[2]: 6666FFFF: removed",
        ];
        var messages = ReadAll(lines);
        Assert.Equal("mallory@evil.example", messages.Single(m => m.QueueId == "5555EEEE").Sender);
        var counted = messages.Single(m => m.QueueId == "6666FFFF");
        Assert.Equal("\"a, size=1, nrcpt=100000\"@evil.example", counted.Sender);
        Assert.Equal(2, counted.RecipientCount);
        Assert.Equal(900, counted.Size);
    }

    [Fact]
    public void PostfixReader_AMessageRetriedForHours_HoldsBackNothingLoggedAfterIt()
    {
        var reader = new PostfixLogReader(2026);
        var t0 = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        string Stamp(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture);
        var given = new List<LoggedMessage>();
        given.AddRange(reader.Read($"{Stamp(t0)} mx postfix/smtpd[1]: DEAD0001: client=x[192.0.2.1], sasl_username=a@example.com"));
        given.AddRange(reader.Read($"{Stamp(t0)} mx postfix/qmgr[2]: DEAD0001: from=<a@example.com>, size=1, nrcpt=1 (queue active)"));
        for (var i = 1; i <= 60; i++)
        {
            var t = t0.AddMinutes(5 * i);
            given.AddRange(reader.Read($"{Stamp(t)} mx postfix/smtp[3]: DEAD0001: to=<x@dead.example>, dsn=4.4.1, status=deferred (connect timed out)"));
            given.AddRange(Message(Stamp(t), "postfix", $"LIVE{i:D4}", "b@example.com", "b@example.com", "y@remote.example").SelectMany(reader.Read));
        }

        // Five hours of log: everything but the last ten minutes is out, the deferred message first.
        Assert.Equal("DEAD0001", given[0].QueueId);
        Assert.True(given.Count >= 55, $"{given.Count} messages out");
    }

    [Fact]
    public void PostfixReader_AFileWrittenInJanuary_DatesItsDecemberLinesLastYear()
    {
        var reader = new PostfixLogReader(2027);
        reader.StartFile(2027, 1);
        var messages = Message("Dec 31 23:59:59", "postfix", "AAAA0003", "a@example.com", "a@example.com", "x@r.example")
            .Concat(Message("Jan  1 00:00:01", "postfix", "AAAA0004", "a@example.com", "a@example.com", "y@r.example"))
            .SelectMany(reader.Read).Concat(reader.Finish()).ToList();
        Assert.Equal([2026, 2027], messages.Select(m => m.Time.Year));
    }

    [Fact]
    public void LogFiles_ReadsRotatedFilesOldestFirst_GzipIncluded()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-logs-").FullName;
        File.WriteAllText(Path.Combine(folder, "mail.log"), "newest\n");
        File.WriteAllText(Path.Combine(folder, "mail.log.1"), "older\n");
        using (var gz = new GZipStream(File.Create(Path.Combine(folder, "mail.log.2.gz")), CompressionLevel.Fastest))
        {
            gz.Write("oldest\ncut mid-li"u8);
        }

        var files = LogFiles.InWrittenOrder(Directory.GetFiles(folder));
        Assert.Equal(["mail.log.2.gz", "mail.log.1", "mail.log"], files.Select(Path.GetFileName));
        Assert.Equal(["oldest", "cut mid-li", "older", "newest"], files.SelectMany(LogFiles.Lines));
    }
}
