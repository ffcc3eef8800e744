using System.Globalization;
using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>The <c>alerts:</c> section: the channels, how failures are retried, reminders and the dashboard link.</summary>
public sealed record AlertOptions
{
    public EmailAlertOptions? Email { get; init; }

    public WebhookAlertOptions? Webhook { get; init; }

    public CommandAlertOptions? Command { get; init; }

    public AlertRetryOptions Retry { get; init; } = new();

    /// <summary>How often an open incident is announced again; zero for never.</summary>
    public TimeSpan Reminder { get; init; } = TimeSpan.Zero;

    /// <summary>A link put in every alert, or null.</summary>
    public string? DashboardUrl { get; init; }

    /// <summary>Whether any channel is configured.</summary>
    public bool Enabled => Email is not null || Webhook is not null || Command is not null;

    /// <summary>Texts that must never reach a log line: the SMTP password and the webhook's URL, path and query.</summary>
    public IReadOnlyList<string> Secrets()
    {
        var secrets = new List<string>();
        if (!string.IsNullOrEmpty(Email?.Password))
        {
            secrets.Add(Email.Password);
        }

        if (Webhook?.Url is { } url)
        {
            secrets.Add(url.OriginalString);
            secrets.Add(url.AbsoluteUri);
            if (url.PathAndQuery.Length > 1)
            {
                secrets.Add(url.PathAndQuery);
            }

            if (url.UserInfo.Length > 0)
            {
                secrets.Add(url.UserInfo);
            }
        }

        return [.. secrets.Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    /// <summary>
    /// Reads an alert duration: what <see cref="Durations"/> reads, milliseconds (<c>250ms</c>) for short test
    /// delays, and zero written as <c>0</c>, <c>0s</c> or <c>0m</c>.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        text = text.Trim();
        if (text.EndsWith("ms", StringComparison.Ordinal))
        {
            var ok = int.TryParse(text.AsSpan(0, text.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var ms);
            duration = TimeSpan.FromMilliseconds(ms);
            return ok;
        }

        if (text.TrimEnd('s', 'm', 'h', 'd') is "0" && text.Length <= 2)
        {
            duration = TimeSpan.Zero;
            return true;
        }

        return Durations.TryParse(text, out duration);
    }

    /// <summary>Writes a duration the way <see cref="TryParseDuration"/> reads it.</summary>
    public static string FormatDuration(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerSecond != 0 ? $"{(long)duration.TotalMilliseconds}ms" : Durations.Format(duration);
}
