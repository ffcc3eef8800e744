using Floodgate.Relay;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Postfix;
using MimeKit;

namespace Floodgate.Tests.Relay.Delivery;

/// <summary>A private Postfix as the next hop, refusing one address for good and deferring another, relaying the rest to its sink.</summary>
[Collection(PostfixGroup.Name)]
public sealed class NextHopRefusalTests
{
    private const string Access = """
        smtpd_recipient_restrictions = check_recipient_access inline:{ { refused@floodgate.test = 550 5.1.1 no such user here }, { later@floodgate.test = 450 4.2.1 mailbox busy, try later } }, permit_mynetworks, reject
        """;

    [Fact]
    public async Task OutboundQueue_RecipientRefused_DeliversTheOthersAndReturnsAReportToTheSender()
    {
        await using var postfix = await PostfixInstance.StartAsync(Access, new Dictionary<string, string>());
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(postfix.SmtpPort, NextHopTls.None));
        var message = await rig.SpoolAsync(
            DeliveryRig.Message("refused", to: "bob@floodgate.test, refused@floodgate.test"), "alice@floodgate.test", ["bob@floodgate.test", "refused@floodgate.test"]);

        await Eventually.TrueAsync(() => rig.Queue.Depth == 0 && SinkMessages(postfix).Count == 2, "the message and its report through the next hop");

        var messages = SinkMessages(postfix);
        var original = Assert.Single(messages, m => m.MessageId == "refused@floodgate.test");
        Assert.Equal(["<bob@floodgate.test>"], Recipients(original));

        var report = Assert.Single(messages, m => m.MessageId != "refused@floodgate.test");
        Assert.Equal("<>", (report.Headers["X-Mail-Args"] ?? "").Trim().Split(' ')[0]);
        Assert.Equal(["<alice@floodgate.test>"], Recipients(report));
        Assert.Equal("MAILER-DAEMON@relay.floodgate.test", report.From.Mailboxes.Single().Address);
        var body = Assert.IsType<MultipartReport>(report.Body);
        Assert.Equal("delivery-status", body.ReportType);
        var status = Assert.Single(body.OfType<MessageDeliveryStatus>());
        Assert.Equal("dns; relay.floodgate.test", status.StatusGroups[0]["Reporting-MTA"]);
        var recipient = Assert.Single(PerRecipient(status));
        Assert.Equal("rfc822; refused@floodgate.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.StartsWith("smtp; 550 5.1.1", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Contains("no such user here", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        var headers = Assert.Single(body.OfType<TextRfc822Headers>());
        Assert.Equal("refused@floodgate.test", headers.Message?.MessageId);

        var refusal = Assert.Single(rig.Refused);
        Assert.Equal((message.Id, "refused@floodgate.test", 550), (refusal.Id, refusal.Failure.Recipient, refusal.Failure.Code));
        Assert.Empty(rig.SpoolFiles);
    }

    [Fact]
    public async Task OutboundQueue_RefusedBounce_IsNotAnsweredWithAnotherReport()
    {
        await using var postfix = await PostfixInstance.StartAsync(Access, new Dictionary<string, string>());
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(postfix.SmtpPort, NextHopTls.None));
        await rig.SpoolAsync(DeliveryRig.Message("bounce", to: "refused@floodgate.test"), "", ["refused@floodgate.test"]);
        await rig.SpoolAsync(DeliveryRig.Message("after"), "alice@floodgate.test", ["bob@floodgate.test"]);

        await Eventually.TrueAsync(() => rig.Queue.Depth == 0 && rig.Refused.Count == 1, "the bounce refused and the next message delivered");
        await postfix.SettleAsync(TimeSpan.FromSeconds(10));

        await Eventually.TrueAsync(() => SinkMessages(postfix).Count > 0, "the next message at the sink");
        Assert.Equal(["after@floodgate.test"], SinkMessages(postfix).Select(m => m.MessageId));
        Assert.Contains(rig.Logs.Lines, l => l.Contains("no delivery report for refused@floodgate.test", StringComparison.Ordinal));
        Assert.Empty(rig.SpoolFiles);
    }

    [Fact]
    public async Task OutboundQueue_MaxAgeExceeded_ReturnsTheStillPendingRecipients()
    {
        await using var postfix = await PostfixInstance.StartAsync(Access, new Dictionary<string, string>());
        await using var rig = await DeliveryRig.StartAsync(DeliveryRig.NextHop(postfix.SmtpPort, NextHopTls.None) with { MaxAge = TimeSpan.FromSeconds(2) });
        var message = await rig.SpoolAsync(
            DeliveryRig.Message("expiring", to: "bob@floodgate.test, later@floodgate.test"), "alice@floodgate.test", ["bob@floodgate.test", "later@floodgate.test"]);

        // later@ is deferred again and again (with backoff) until the message is two seconds old.
        await Eventually.TrueAsync(() => rig.Queue.Depth == 0 && SinkMessages(postfix).Count == 2, "the message and its expiry report");
        Assert.True(DateTimeOffset.UtcNow - message.ReceivedAt >= TimeSpan.FromSeconds(2), "the report came only after MaxAge");

        var messages = SinkMessages(postfix);
        var original = Assert.Single(messages, m => m.MessageId == "expiring@floodgate.test");
        Assert.Equal(["<bob@floodgate.test>"], Recipients(original));
        var report = Assert.Single(messages, m => m.MessageId != "expiring@floodgate.test");
        Assert.Equal(["<alice@floodgate.test>"], Recipients(report));
        var body = Assert.IsType<MultipartReport>(report.Body);
        Assert.Contains("delivery time expired", BodyText(body[0]), StringComparison.Ordinal);
        var recipient = Assert.Single(PerRecipient(Assert.Single(body.OfType<MessageDeliveryStatus>())));
        Assert.Equal("rfc822; later@floodgate.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("4.4.7", recipient["Status"]);
        Assert.StartsWith("smtp; 450 4.2.1", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Empty(rig.Refused);
        Assert.Empty(rig.SpoolFiles);
    }

    // Postfix hands mail to its smtp-sink on its own time and the sink writes a dump while the message arrives: a file
    // written in the last half second may be incomplete and is left for the next look.
    private static List<MimeMessage> SinkMessages(PostfixInstance postfix)
    {
        var messages = new List<MimeMessage>();
        foreach (var file in Directory.EnumerateFiles(postfix.SinkDirectory).Order(StringComparer.Ordinal))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) < TimeSpan.FromMilliseconds(500))
            {
                continue;
            }

            try
            {
                messages.Add(MimeMessage.Load(file));
            }
            catch (FormatException)
            {
            }
        }

        return messages;
    }

    // Postfix adds ORCPT=... after the address.
    private static List<string> Recipients(MimeMessage message) =>
        [.. message.Headers.Where(h => h.Field == "X-Rcpt-Args").Select(h => h.Value.Trim().Split(' ')[0])];

    // MimeKit reads the blank line before the closing boundary as one more, empty, group.
    private static IEnumerable<HeaderList> PerRecipient(MessageDeliveryStatus status) =>
        status.StatusGroups.Where(g => g.Contains("Final-Recipient"));

    private static string BodyText(MimeEntity entity)
    {
        using var text = new MemoryStream();
        ((MimePart)entity).Content?.DecodeTo(text);
        return System.Text.Encoding.UTF8.GetString(text.ToArray());
    }
}
