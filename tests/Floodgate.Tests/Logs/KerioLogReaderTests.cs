using Floodgate.Logs;

namespace Floodgate.Tests.Logs;

public class KerioLogReaderTests
{
    private const string Documented = "[25/Jun/2014 10:39:19] Recv: Queue-ID: 53aaa6d7-000000f4, Service: Kerio Connect client, From: <user@domain>, To: <user@domain>, Size: 854, Sender-Host: 10.10.10.1, User: user@domain, SSL: yes, Subject: test, Msg-Id: <3533420989-24989@domain>";

    [Fact]
    public void KerioReader_ReadsTheDocumentedRecvLine()
    {
        var message = Assert.Single(new KerioLogReader().Read(Documented));
        Assert.Equal("53aaa6d7-000000f4", message.QueueId);
        Assert.Equal(new DateTimeOffset(2014, 6, 25, 10, 39, 19, TimeSpan.Zero), message.Time);
        Assert.Equal("user@domain", message.Login);
        Assert.Equal("user@domain", message.Sender);
        Assert.Equal(["user@domain"], message.Recipients.Select(r => r.Address));
        Assert.Equal(854, message.Size);
        Assert.Equal("10.10.10.1", message.ClientAddress);
        Assert.Equal("test", message.Subject);
        Assert.Equal("3533420989-24989@domain", message.MessageId);
    }

    [Fact]
    public void KerioReader_TakesSeveralRecipients_UnicodeAndOddSpacing()
    {
        var line = "[01/Dec/2026 18:08:18]   Recv:  Queue-ID: 6a1b2c3d-00000001, Service: WebMail, From: <jörg@beispiel.de>, To: <a@x.example>, To: <b@y.example>,<c@z.example>, Size: 12, Sender-Host: 192.0.2.5, User: jörg@beispiel.de, SSL: no, Subject: Grüße, wie geht's?, Msg-Id: <x@y>";
        var message = Assert.Single(new KerioLogReader().Read(line));
        Assert.Equal("jörg@beispiel.de", message.Login);
        Assert.Equal(["a@x.example", "b@y.example", "c@z.example"], message.Recipients.Select(r => r.Address));
        Assert.Equal("Grüße, wie geht's?", message.Subject);
    }

    [Fact]
    public void KerioReader_BelievesNoFieldThatASubjectWrites()
    {
        // The sender writes the Subject: a forged ", User: ceo@domain" in it must not name the login.
        var line = "[01/Dec/2026 18:08:18] Recv: Queue-ID: 6a1b2c3d-00000002, Service: SMTP, From: <spam@evil.example>, To: <x@domain>, Size: 100, Sender-Host: 203.0.113.9, Subject: hi, User: ceo@domain, To: <y@domain>, Msg-Id: <z@evil>";
        var message = Assert.Single(new KerioLogReader().Read(line));
        Assert.Null(message.Login);
        Assert.Equal(["x@domain"], message.Recipients.Select(r => r.Address));
        Assert.Equal("hi, User: ceo@domain, To: <y@domain>", message.Subject);
    }

    [Fact]
    public void KerioReader_BelievesNoFieldThatAnAddressWrites()
    {
        // A quoted local part may hold anything, '>' and ", User:" included.
        var line = "[01/Dec/2026 18:08:18] Recv: Queue-ID: 6a1b2c3d-00000003, Service: SMTP, From: <\"x>, User: ceo@domain, Sender-Host: 127.0.0.1, To: q\"@evil.example>, To: <v@domain>, Size: 10, Sender-Host: 203.0.113.9, SSL: no, Subject: hi, Msg-Id: <m@evil>";
        var message = Assert.Single(new KerioLogReader().Read(line));
        Assert.Null(message.Login);
        Assert.Equal("203.0.113.9", message.ClientAddress);
        Assert.Equal(["v@domain"], message.Recipients.Select(r => r.Address));
    }

    [Fact]
    public void KerioReader_SkipsAndCountsWhatIsNotARecvLine_NeverThrows()
    {
        var reader = new KerioLogReader();
        string[] lines =
        [
            Documented[..60],                       // a file cut mid-line
            "",
            "garbage \u0000\u001b[31m",
            "[99/Foo/2014 10:39:19] Recv: Queue-ID: x",
            "[25/Jun/2014 10:39:20] Sent: Queue-ID: 53aaa6d7-000000f4, Recipient: <user@domain>, Result: delivered, Status: 2.0.0",
            "[25/Jun/2014 10:39:21] Recv: Service: SMTP, From: <a@b>",
        ];
        var messages = lines.SelectMany(reader.Read).ToList();
        Assert.Empty(messages);
        Assert.Equal(6, reader.Stats.Lines);
        Assert.Equal(5, reader.Stats.Skipped);
    }
}
