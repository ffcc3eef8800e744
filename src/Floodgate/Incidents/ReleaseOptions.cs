namespace Floodgate.Incidents;

/// <summary>How releasing an account acts on Postfix's hold queue and on the account's counters.</summary>
public sealed record ReleaseOptions
{
    /// <summary>The postsuper program that releases (-H) or deletes (-d) held messages by queue id.</summary>
    public string Postsuper { get; init; } = "/usr/sbin/postsuper";

    /// <summary>The postqueue program, run with -f after a release so the released mail goes out now, not at the next queue run.</summary>
    public string Postqueue { get; init; } = "/usr/sbin/postqueue";

    /// <summary>Postfix's config directory for postsuper -c, or null for the default instance.</summary>
    public string? PostfixConfigDirectory { get; init; }

    /// <summary>Whether a released account starts with empty windows.</summary>
    public bool ResetCounters { get; init; } = true;
}
