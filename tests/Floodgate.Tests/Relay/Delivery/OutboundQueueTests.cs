using System.Text;
using Floodgate.Relay;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay.Delivery;

public sealed class OutboundQueueTests
{
    [Fact]
    public async Task OutboundQueue_DeliversTheStoredBytesUnchanged()
    {
        var port = FreePort.Next();
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(port, NextHopTls.Opportunistic));
        await using var sink = await NextHopSink.StartAsync(port, Path.Combine(rig.Folder, "mail"));

        // What a re-encoding client would disturb: odd folding and spacing, raw UTF-8 in a header and an 8bit body,
        // a line that needs dot-stuffing, trailing white space, a 990-byte line, an empty last line.
        var content = Encoding.UTF8.GetBytes(
            "Received: from client.floodgate.test (client [192.0.2.7])\r\n\tby mx.floodgate.test;   Fri, 27 Nov 2026 10:00:00 +0000\r\n" +
            "From:    \"Zoë Ærø\"   <zoe@floodgate.test>\r\n" +
            "To: bob@floodgate.test,\r\n   \"Carol, C.\" <carol@floodgate.test>\r\n" +
            "Subject: =?utf-8?q?caf=C3=A9?=   and   Grüße\r\n" +
            "X-Odd-Folding:a\r\n \r\n\t b   \r\n" +
            "Message-ID: <bytes@floodgate.test>\r\n" +
            "MIME-Version: 1.0\r\n" +
            "Content-Type: text/plain;\r\n  charset=\"utf-8\"\r\n" +
            "Content-Transfer-Encoding: 8bit\r\n" +
            "\r\n" +
            "Grüße aus Köln — ½ €\r\n" +
            ".a line that starts with a dot\r\n" +
            "..two dots\r\n" +
            ".\r\n" +
            "trailing space   \r\n" +
            new string('x', 990) + "\r\n" +
            "\r\n");
        var message = await rig.SpoolAsync(content, "alice@floodgate.test", ["bob@floodgate.test", "carol@floodgate.test"]);

        await Eventually.TrueAsync(() => rig.Queue.Depth == 0 && sink.Received().Count == 1, "the message delivered");

        // smtp-sink writes its own X- headers and a Received header, then what it received, with LF line ends.
        var dump = sink.Received()[0];
        var expected = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(content).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        var start = dump.AsSpan().IndexOf("Received: from client.floodgate.test"u8);
        Assert.True(start > 0, "the stored message's first header is in the dump");
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(dump.AsSpan(start)));
        Assert.Equal(expected, dump.AsSpan(start).ToArray());
        var envelope = Encoding.UTF8.GetString(dump.AsSpan(0, start));
        // The 8bit body is announced as such (RFC 6152), not re-encoded.
        Assert.Contains("X-Mail-Args: <alice@floodgate.test> BODY=8BITMIME", envelope, StringComparison.Ordinal);
        Assert.Contains("X-Rcpt-Args: <bob@floodgate.test>", envelope, StringComparison.Ordinal);
        Assert.Contains("X-Rcpt-Args: <carol@floodgate.test>", envelope, StringComparison.Ordinal);

        Assert.Empty(rig.SpoolFiles);
        Assert.Contains(rig.Logs.Lines, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains($"delivered {message.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OutboundQueue_NextHopDownThenUp_DeliversEverythingOnce()
    {
        const int count = 12;
        var port = FreePort.Next();
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(port, NextHopTls.Opportunistic));
        for (var i = 0; i < count; i++)
        {
            await rig.SpoolAsync(DeliveryRig.Message($"down-{i}"), "alice@floodgate.test", [$"bob{i}@floodgate.test"]);
        }

        // Nothing listens: the queue keeps everything, durably, and backs off the next hop as a whole.
        await Eventually.TrueAsync(() => rig.Logs.Lines.Count(l => l.Contains("next hop unavailable", StringComparison.Ordinal)) >= 3, "three failed connection attempts");
        Assert.Equal(count, rig.Queue.Depth);
        Assert.Equal(2 * count, rig.SpoolFiles.Length);
        var attempted = rig.Envelopes().Sum(m => m.Attempts);
        Assert.InRange(attempted, 1, 3 * rig.Logs.Lines.Count(l => l.Contains("next hop unavailable", StringComparison.Ordinal)));

        await using var sink = await NextHopSink.StartAsync(port, Path.Combine(rig.Folder, "mail"));
        await Eventually.TrueAsync(() => rig.Queue.Depth == 0, "everything delivered");

        var ids = sink.Messages().Select(m => m.MessageId).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"down-{i}@floodgate.test").Order(StringComparer.Ordinal), ids);
        Assert.Empty(rig.SpoolFiles);
    }

    [Fact]
    public async Task OutboundQueue_DeferredRecipients_AreRetriedAndDeliveredOnce()
    {
        var port = FreePort.Next();
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(port, NextHopTls.Opportunistic));
        var deferring = await NextHopSink.StartAsync(port, Path.Combine(rig.Folder, "deferred"), "-r", "RCPT");
        var message = await rig.SpoolAsync(DeliveryRig.Message("later"), "alice@floodgate.test", ["bob@floodgate.test", "carol@floodgate.test"]);

        await Eventually.TrueAsync(() => rig.Envelopes().SingleOrDefault()?.Attempts >= 1, "a deferred attempt saved");
        var deferred = rig.Envelopes().Single();
        Assert.Equal(["bob@floodgate.test", "carol@floodgate.test"], deferred.Recipients);
        Assert.StartsWith("4", deferred.LastError, StringComparison.Ordinal);
        Assert.NotNull(deferred.NextAttemptAt);
        Assert.Empty(Directory.GetFiles(deferring.Dumps));
        await deferring.DisposeAsync();

        await using var sink = await NextHopSink.StartAsync(port, Path.Combine(rig.Folder, "mail"));
        await Eventually.TrueAsync(() => rig.Queue.Depth == 0, "the message delivered");

        var received = Assert.Single(sink.Received());
        var envelope = Encoding.UTF8.GetString(received);
        Assert.Contains("X-Rcpt-Args: <bob@floodgate.test>", envelope, StringComparison.Ordinal);
        Assert.Contains("X-Rcpt-Args: <carol@floodgate.test>", envelope, StringComparison.Ordinal);
        Assert.Empty(rig.SpoolFiles);
        Assert.Empty(rig.Refused);
        Assert.Contains(rig.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains($"deferred {message.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OutboundQueue_ReusesItsConnectionAcrossMessages()
    {
        const int count = 5;
        var port = FreePort.Next();
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(port, NextHopTls.Opportunistic) with { Concurrency = 1 });

        await using var sink = await NextHopSink.StartAsync(port, Path.Combine(rig.Folder, "mail"), "-v");
        for (var i = 0; i < count; i++)
        {
            await rig.SpoolAsync(DeliveryRig.Message($"reuse-{i}"), "alice@floodgate.test", ["bob@floodgate.test"]);
        }

        await Eventually.TrueAsync(() => rig.Queue.Depth == 0, "everything delivered");
        Assert.Equal(count, sink.Received().Count);

        // One session (one EHLO) carried every message.
        Assert.Single(sink.Output, l => l.EndsWith(": ehlo relay.floodgate.test", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(count, sink.Output.Count(l => l.EndsWith(": data", StringComparison.OrdinalIgnoreCase)));
    }
}
