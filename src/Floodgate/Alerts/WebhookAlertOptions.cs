namespace Floodgate.Alerts;

/// <summary>An HTTP endpoint that receives each alert as a JSON POST (chat incoming webhooks included).</summary>
public sealed record WebhookAlertOptions
{
    /// <summary>The full URL; its path and query often are the hook's secret, so logs show only scheme and host.</summary>
    public required Uri Url { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How the webhook is named in log lines: scheme, host and port, never the path or the query.</summary>
    public string DisplayName => $"webhook {Url.Scheme}://{Url.Authority}";

    /// <summary>Whether a text is an absolute http:// or https:// URL.</summary>
    public static bool TryParseUrl(string text, out Uri url) =>
        Uri.TryCreate(text, UriKind.Absolute, out url!) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && url.Host.Length > 0;

    // The generated ToString would print the secret part of the URL.
    public override string ToString() => DisplayName;
}
