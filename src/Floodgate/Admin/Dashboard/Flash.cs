using System.Globalization;

namespace Floodgate.Admin.Dashboard;

/// <summary>
/// The confirmation a page shows after an action. The redirect carries only a known key and a count (<c>?done=KEY&amp;n=N</c>),
/// never text, so a link made by someone else cannot put words of theirs into the dashboard.
/// </summary>
public static class Flash
{
    private static readonly Dictionary<string, string> Texts = new(StringComparer.Ordinal)
    {
        ["suspended"] = "Suspended: its mail is held until you release it.",
        ["not-suspended"] = "It was not suspended and had no held mail.",
        ["released-delivered"] = "Released; {n} held messages sent on.",
        ["released-purged"] = "Released; {n} held messages deleted.",
        ["released-kept"] = "Released; its held mail stays held.",
        ["release-problem"] = "Released, but not all of its held mail could be handled: the held mail and the incident's timeline below say what is left and why.",
        ["exempted"] = "Exempted: the exemption and its end are shown below.",
        ["exempt-in-past"] = "Not exempted: give a time in the future.",
        ["unexempted"] = "Exemption removed.",
        ["message-released"] = "Message released: it goes on to the next hop.",
        ["message-purged"] = "Message purged.",
        ["message-not-held"] = "That message is not held (released or purged already?).",
        ["no-account"] = "No account given.",
        ["account-released"] = "{n} held messages released: they go on to the next hop.",
        ["account-purged"] = "{n} held messages purged.",
    };

    /// <summary>The query string (without "?") that makes the next page show <paramref name="key"/>'s text.</summary>
    public static string Query(string key, long count = 0)
    {
        if (!Texts.ContainsKey(key))
        {
            throw new ArgumentException($"no flash text '{key}'", nameof(key));
        }

        return string.Create(CultureInfo.InvariantCulture, $"done={key}&n={count}");
    }

    /// <summary>The flash paragraph for <paramref name="key"/>, or nothing for no key or one that is not the dashboard's.</summary>
    public static string Html(string? key, long? count) => key is not null && Texts.TryGetValue(key, out var text)
        ? $"<p class=\"flash\" id=\"flash\">{Dashboard.Html.E(text.Replace("{n}", Dashboard.Html.E(count ?? 0), StringComparison.Ordinal))}</p>"
        : "";
}
