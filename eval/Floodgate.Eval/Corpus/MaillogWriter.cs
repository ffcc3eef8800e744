using System.Globalization;

namespace Floodgate.Eval.Corpus;

/// <summary>
/// Writes a corpus as Postfix logs it (RFC 3339 stamps, as rsyslog writes them): per message the submission service's
/// smtpd client= line with the login, cleanup's message-id=, qmgr's from=/size=/nrcpt=, one lmtp (colleagues) or smtp
/// line per recipient with its dsn= and status= (sent, or bounced 5.1.1), the bounce daemon's non-delivery notice and
/// its own message back to the sender, and "removed".
/// </summary>
public static class MaillogWriter
{
    public const string Host = "mail";

    public static void Write(GeneratedCorpus corpus, TextWriter output)
    {
        var accounts = corpus.Accounts;
        var nextId = (long)corpus.Messages.Count;
        foreach (var m in corpus.Messages)
        {
            var login = accounts[m.Account].Login;
            var id = m.QueueId;
            var pid = 1000 + (m.Account * 37 % 30000);
            var at = Stamp(m.Time);
            output.Write(at);
            output.Write($" {Host} postfix/submission/smtpd[{pid}]: {id}: client=unknown[{m.ClientAddress}], sasl_method=PLAIN, sasl_username={login}\n");
            output.Write(at);
            output.Write($" {Host} postfix/cleanup[{pid + 1}]: {id}: message-id=<{m.Time.UtcTicks:x}.{id}@{corpus.Options.Domain}>\n");
            output.Write(at);
            output.Write($" {Host} postfix/qmgr[900]: {id}: from=<{login}>, size={m.Size}, nrcpt={m.Recipients.Length} (queue active)\n");

            // Delivery takes a fraction of a second to a few seconds; the lines carry the time they were written.
            var delay = 0.1 + ((m.Time.UtcTicks / 10_000 % 1000) / 400.0);
            var done = Stamp(m.Time.AddSeconds(delay));
            var bounced = false;
            foreach (var r in m.Recipients)
            {
                output.Write(done);
                var domain = r.Address[(r.Address.IndexOf('@', StringComparison.Ordinal) + 1)..];
                var timing = string.Create(CultureInfo.InvariantCulture, $"delay={delay:0.0}, delays=0.05/0/0.02/{delay - 0.07:0.00}");
                if (r.Internal)
                {
                    output.Write($" {Host} postfix/lmtp[{pid + 2}]: {id}: to=<{r.Address}>, relay={Host}.{corpus.Options.Domain}[private/dovecot-lmtp], {timing}, dsn=2.0.0, status=sent (250 2.0.0 <{r.Address}> Saved)\n");
                }
                else if (r.Bounced)
                {
                    bounced = true;
                    output.Write($" {Host} postfix/smtp[{pid + 3}]: {id}: to=<{r.Address}>, relay=mx.{domain}[{MxAddress(domain)}]:25, {timing}, dsn=5.1.1, status=bounced (host mx.{domain}[{MxAddress(domain)}] said: 550 5.1.1 <{r.Address}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))\n");
                }
                else
                {
                    output.Write($" {Host} postfix/smtp[{pid + 3}]: {id}: to=<{r.Address}>, relay=mx.{domain}[{MxAddress(domain)}]:25, {timing}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {id[..6]}X)\n");
                }
            }

            if (bounced)
            {
                // The non-delivery report is a message of its own, from the null sender, that no smtpd submitted.
                var dsn = QueueIds.Of(nextId++);
                output.Write($"{done} {Host} postfix/bounce[950]: {id}: sender non-delivery notification: {dsn}\n");
                output.Write($"{done} {Host} postfix/cleanup[{pid + 1}]: {dsn}: message-id=<{m.Time.UtcTicks:x}.{dsn}@{Host}.{corpus.Options.Domain}>\n");
                output.Write($"{done} {Host} postfix/qmgr[900]: {dsn}: from=<>, size=4200, nrcpt=1 (queue active)\n");
                output.Write($"{done} {Host} postfix/lmtp[{pid + 2}]: {dsn}: to=<{login}>, relay={Host}.{corpus.Options.Domain}[private/dovecot-lmtp], delay=0.1, delays=0.05/0/0.02/0.03, dsn=2.0.0, status=sent (250 2.0.0 <{login}> Saved)\n");
                output.Write($"{done} {Host} postfix/qmgr[900]: {dsn}: removed\n");
            }

            output.Write(done);
            output.Write($" {Host} postfix/qmgr[900]: {id}: removed\n");
        }
    }

    public static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffff+00:00", CultureInfo.InvariantCulture);

    private static string MxAddress(string domain)
    {
        // FNV-1a: string.GetHashCode changes with every process, and the log must not.
        var h = 2166136261u;
        foreach (var c in domain)
        {
            h = unchecked((h ^ c) * 16777619u);
        }

        return $"198.{18 + (h % 2)}.{(h >> 8) % 256}.{((h >> 16) % 250) + 2}";
    }
}
