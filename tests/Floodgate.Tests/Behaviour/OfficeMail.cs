using System.Globalization;
using Floodgate.Engine;

namespace Floodgate.Tests.Behaviour;

/// <summary>One message an account sent, as a generated log has it.</summary>
internal sealed record SentMail(DateTimeOffset At, string Login, string Client, string Sender, string[] Recipients)
{
    public Submission ToSubmission() => new(Login, Sender, Recipients.Length, 4000, Client, At) { Recipients = Recipients };
}

/// <summary>Generated mail: an office worker's normal weeks, and a hijacker's blast, as submissions and as Postfix log lines.</summary>
internal static class OfficeMail
{
    /// <summary>The Monday the generated weeks start (UTC).</summary>
    public static readonly DateTimeOffset Monday = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// <paramref name="days"/> days of an office worker's mail from <paramref name="start"/>: on weekdays 8 to 14
    /// messages between 09:00 and 17:00 UTC, from 198.51.100.0/24, to 1 or 2 of 25 usual contacts at 5 domains.
    /// </summary>
    public static List<SentMail> Normal(string login, DateTimeOffset start, int days, int seed)
    {
        var random = new Random(seed);
        var mail = new List<SentMail>();
        for (var day = 0; day < days; day++)
        {
            var date = start.AddDays(day);
            if (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }

            var count = random.Next(8, 15);
            var minutes = Enumerable.Range(0, count).Select(_ => random.Next(9 * 60, 17 * 60)).Order().ToList();
            foreach (var minute in minutes)
            {
                mail.Add(new SentMail(date.AddMinutes(minute).AddSeconds(random.Next(60)), login, $"198.51.100.{random.Next(10, 40)}", login,
                    [.. Enumerable.Range(0, random.Next(1, 3)).Select(_ => Contact(random.Next(25)))]));
            }
        }

        return mail;
    }

    /// <summary>The usual contact <paramref name="n"/> (0 to 24): five at each of five partner domains.</summary>
    public static string Contact(int n) => $"contact{n}@partner{n % 5}.example";

    /// <summary>A hijacker's mail from 203.0.113.0/24, one message every <paramref name="every"/>, each to new domains.</summary>
    public static List<SentMail> Blast(string login, DateTimeOffset start, int messages, TimeSpan every, int recipients = 1) =>
        [.. Enumerable.Range(0, messages).Select(i => new SentMail(start + (every * i), login, $"203.0.113.{(i % 200) + 1}", login,
            [.. Enumerable.Range(0, recipients).Select(r => $"victim{i}-{r}@target{(i * recipients) + r}.example")]))];

    /// <summary>The messages as Postfix logs them (RFC 3339 stamps), each delivered.</summary>
    public static IEnumerable<string> PostfixLines(IEnumerable<SentMail> mail)
    {
        var n = 0;
        foreach (var m in mail.OrderBy(m => m.At))
        {
            var id = $"B{n++:X9}";
            var stamp = m.At.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
            yield return $"{stamp} mx postfix/smtpd[1]: {id}: client=c[{m.Client}], sasl_method=PLAIN, sasl_username={m.Login}";
            yield return $"{stamp} mx postfix/qmgr[2]: {id}: from=<{m.Sender}>, size=4000, nrcpt={m.Recipients.Length} (queue active)";
            foreach (var r in m.Recipients)
            {
                yield return $"{stamp} mx postfix/smtp[3]: {id}: to=<{r}>, relay=x[192.0.2.1]:25, dsn=2.0.0, status=sent (250 ok)";
            }

            yield return $"{stamp} mx postfix/qmgr[2]: {id}: removed";
        }
    }
}
