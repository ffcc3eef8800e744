namespace Floodgate.Incidents;

/// <summary>What happens to a released account's held mail.</summary>
public enum ReleaseMode
{
    /// <summary>Held mail is delivered (Postfix: postsuper -H).</summary>
    Deliver,

    /// <summary>Held mail is deleted (Postfix: postsuper -d).</summary>
    Purge,

    /// <summary>Held mail stays held for a later decision (automatic release).</summary>
    Keep,
}
