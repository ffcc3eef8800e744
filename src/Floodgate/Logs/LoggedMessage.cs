using Floodgate.Engine;

namespace Floodgate.Logs;

/// <summary>One message rebuilt from a mail server's log: who sent it, from where, to whom, and what became of each recipient.</summary>
public sealed class LoggedMessage
{
    /// <summary>The server's queue id (Postfix's, or Kerio's Queue-ID).</summary>
    public required string QueueId { get; init; }

    /// <summary>When the server took the message in (the first line that names it).</summary>
    public DateTimeOffset Time { get; set; }

    /// <summary>The login that submitted it, or null when the client did not log in.</summary>
    public string? Login { get; set; }

    public string? ClientAddress { get; set; }

    public string? ClientName { get; set; }

    /// <summary>The envelope sender; empty for the null sender.</summary>
    public string? Sender { get; set; }

    public long Size { get; set; }

    /// <summary>The recipient count the server logged (Postfix's nrcpt), where it did.</summary>
    public int? RecipientCount { get; set; }

    public string? MessageId { get; set; }

    public string? Subject { get; set; }

    /// <summary>Each recipient with its outcome as far as the log tells.</summary>
    public List<RecipientOutcome> Recipients { get; } = [];

    /// <summary>Recipients the log says bounced (failed for good).</summary>
    public int FailedRecipients => Recipients.Count(r => r.Status == "bounced");

    /// <summary>How it was delivered: smtp, lmtp, virtual, local... (the last delivery agent seen).</summary>
    public string? DeliveredBy { get; set; }

    /// <summary>What smtpd said of it when it was held or refused ("hold", "reject").</summary>
    public string? Action { get; set; }

    /// <summary>
    /// True for mail that came in: no login, and delivered to local mailboxes only (local, virtual, lmtp). Inbound mail
    /// is never an account's sending.
    /// </summary>
    public bool IsInbound => Login is null && Recipients.Count > 0 && DeliveredBy is "local" or "virtual" or "lmtp"
        && Recipients.All(r => r.Agent is "local" or "virtual" or "lmtp");

    /// <summary>The message as the decision pipeline takes it, at the log's time.</summary>
    public Submission ToSubmission()
    {
        var recipients = Recipients.Select(r => r.Address).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new Submission(Login, Sender ?? "", Math.Max(RecipientCount ?? 0, recipients.Count), Size, ClientAddress, Time)
        {
            Recipients = recipients,
            QueueId = QueueId,
            Subject = Subject,
            FailedRecipients = Recipients.Count(r => r.Status == "bounced" && r.Code?.StartsWith("5.1.", StringComparison.Ordinal) == true),
            DeliveredRecipients = Recipients.Count(r => r.Status == "sent"),
        };
    }
}
