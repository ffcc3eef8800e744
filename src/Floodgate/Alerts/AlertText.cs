using System.Globalization;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>The readable side of an alert: its subject, its plain-text body and the commands to act.</summary>
internal static class AlertText
{
    /// <summary>How many entries of each evidence table the text lists (the JSON carries them all).</summary>
    public const int TopEntries = 10;

    private const int TimelineEntries = 20;

    public static string Subject(AlertEvent kind, Incident incident)
    {
        var who = $"{ScopeWord(incident.Identity.Scope)} {Clean(incident.Identity.Key, 120)}";
        var why = incident.Rule is null ? "by an admin" : $"over limit {Clean(incident.Rule, 60)}";
        return kind switch
        {
            AlertEvent.Reminder => $"[Floodgate] reminder: {who} still suspended ({why})",
            AlertEvent.Observed => $"[Floodgate] observe only: {who} would have been suspended: {why}",
            _ => $"[Floodgate] {who} suspended{(incident.Rule is null ? " " : ": ")}{why}",
        };
    }

    public static string Body(AlertEvent kind, Incident incident, DateTimeOffset now, string? dashboardUrl)
    {
        var who = $"{ScopeWord(incident.Identity.Scope)} {Clean(incident.Identity.Key, 320)}";
        var evidence = incident.Evidence;
        var text = new StringBuilder();
        if (kind == AlertEvent.Reminder)
        {
            text.Append(CultureInfo.InvariantCulture, $"Reminder: {who} is still suspended, since {Time(incident.OpenedAt)} ({Ago(now - incident.OpenedAt)}).\n");
        }
        else if (kind == AlertEvent.Observed)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"OBSERVE MODE, nothing was enforced: Floodgate would have suspended {who}: over limit {Clean(incident.Rule ?? "-", 60)}.\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture,
                $"Floodgate suspended {who}{(incident.Rule is null ? " (by an admin)" : $": over limit {Clean(incident.Rule, 60)}")}.\n");
        }

        var observed = kind == AlertEvent.Observed;
        text.Append(observed
            ? "Its mail is still delivered and nobody was suspended; enforcing, its new mail would have been held until released.\n\n"
            : "Its new mail is not delivered until it is released; what it sent before is untouched.\n\n");
        Line(text, "Reason", Clean(incident.Reason, 1000));
        Line(text, "Incident", $"#{incident.Id}, {(observed ? "observe only, recorded" : "opened")} {Time(incident.OpenedAt)}");
        if (!observed)
        {
            Line(text, "Release", incident.AutoReleaseAt is { } auto ? $"automatically at {Time(auto)}, or by an admin" : "by an admin only");
        }

        if (evidence.Counters.Count > 0)
        {
            text.Append("\nCounts when suspended:\n");
            var width = evidence.Counters.Max(c => Clean(c.Rule, 60).Length);
            var countWidth = evidence.Counters.Max(c => c.Count.ToString("N0", CultureInfo.InvariantCulture).Length);
            foreach (var c in evidence.Counters)
            {
                var count = c.Count.ToString("N0", CultureInfo.InvariantCulture).PadLeft(countWidth);
                text.Append(CultureInfo.InvariantCulture, $"  {Clean(c.Rule, 60).PadRight(width)}  {count} of {c.Max:N0} {Clean(c.Unit, 20)} per {Clean(c.Window, 20)}\n");
            }
        }

        text.Append('\n');
        Line(text, "First submission", evidence.FirstSubmission is { } first ? Time(first) : "-");
        Line(text, "Last submission", evidence.LastSubmission is { } last ? Time(last) : "-");
        Line(text, observed ? "Would have held" : "Refused so far", string.Create(CultureInfo.InvariantCulture,
            $"{evidence.RefusedMessages:N0} messages, {evidence.RefusedRecipients:N0} recipients ({(observed ? "delivered, since nothing is enforced" : "held, deferred or rejected since the suspension")})"));

        Table(text, "Source IPs", evidence.ClientAddresses);
        Table(text, "Top recipient domains", evidence.RecipientDomains);
        Table(text, "Senders", evidence.Senders);
        List(text, "Sample subjects", evidence.Subjects, s => $"\"{Clean(s, 200)}\"");
        List(text, "Sample queue ids", evidence.QueueIds, id => Clean(id, 40));

        if (incident.Timeline.Count > 0)
        {
            text.Append("\nTimeline:\n");
            foreach (var e in incident.Timeline.TakeLast(TimelineEntries))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {Time(e.At)}  {Clean(e.Kind, 40)} by {Clean(e.By, 80)}: {Clean(e.Detail, 300)}\n");
            }
        }

        if (observed)
        {
            text.Append("\nTo enforce, set mode: enforce in floodgate.yml (or drop the limit's mode: observe) and reload:\n");
            text.Append("    systemctl reload floodgate    (or: floodgate reload)\n");
        }
        else
        {
            text.Append("\nTo act, on the Floodgate server:\n");
            text.Append("  deliver the held mail and release it:\n");
            text.Append(CultureInfo.InvariantCulture, $"    {ReleaseCommand(incident.Identity, "--deliver")}\n");
            text.Append("  delete the held mail and release it:\n");
            text.Append(CultureInfo.InvariantCulture, $"    {ReleaseCommand(incident.Identity, "--purge")}\n");
        }

        if (dashboardUrl is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nDashboard: {dashboardUrl}\n");
        }

        return text.ToString();
    }

    /// <summary>`floodgate release KEY --deliver|--purge`, the key quoted for a POSIX shell when it needs it.</summary>
    public static string ReleaseCommand(Identity identity, string choice) => $"floodgate release {ShellQuote(identity.Key)} {choice}";

    /// <summary>
    /// Makes a text safe to show: control characters (a forged line in a subject, an ANSI escape) become spaces and
    /// the length is capped; the evidence comes from whoever sent the mail.
    /// </summary>
    public static string Clean(string text, int max, bool keepLines = false)
    {
        var builder = new StringBuilder(Math.Min(text.Length, max + 1));
        foreach (var c in text)
        {
            if (builder.Length == max)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) && !(keepLines && c is '\n' or '\t') ? ' ' : c);
        }

        return builder.ToString();
    }

    /// <summary>A copy of the incident, taken under its lock, so evidence that keeps growing does not race the send.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string ScopeWord(Scope scope) => scope switch
    {
        Scope.Account => "account",
        Scope.Sender => "sender",
        Scope.SenderDomain => "sender domain",
        Scope.ClientIp => "client IP",
        _ => "identity",
    };

    private static string Ago(TimeSpan span) => span.TotalMinutes < 1 ? "under a minute"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes} min"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
        : $"{(int)span.TotalDays} d {span.Hours} h";

    private static void Line(StringBuilder text, string label, string value) =>
        text.Append(label).Append(':').Append(' ', Math.Max(1, 18 - label.Length)).Append(value).Append('\n');

    private static void Table(StringBuilder text, string title, Dictionary<string, long> counts)
    {
        if (counts.Count == 0)
        {
            return;
        }

        var top = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(TopEntries)
            .Select(c => (Key: Clean(c.Key, 120), c.Value)).ToList();
        var width = top.Max(t => t.Key.Length);
        text.Append(CultureInfo.InvariantCulture, $"\n{title}{(counts.Count > top.Count ? $" (top {top.Count} of {counts.Count})" : "")}:\n");
        foreach (var (key, value) in top)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {key.PadRight(width)}  {value,8:N0}\n");
        }
    }

    private static void List(StringBuilder text, string title, List<string> items, Func<string, string> show)
    {
        if (items.Count == 0)
        {
            return;
        }

        var sample = items.Take(TopEntries).Select(show).ToList();
        text.Append(CultureInfo.InvariantCulture, $"\n{title}{(items.Count > sample.Count ? $" ({sample.Count} of {items.Count})" : "")}:\n");
        foreach (var item in sample)
        {
            text.Append("  ").Append(item).Append('\n');
        }
    }

    // The key may come from an unauthenticated envelope sender: quoted, the admin's shell runs it as one word and nothing else.
    private static string ShellQuote(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or '-' or '+' or ':' or '=' or '/' or ',')
            ? key
            : "'" + key.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
