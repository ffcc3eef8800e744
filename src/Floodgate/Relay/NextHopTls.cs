namespace Floodgate.Relay;

/// <summary>Whether delivery to the next hop uses STARTTLS.</summary>
public enum NextHopTls
{
    /// <summary>STARTTLS when the next hop offers it.</summary>
    Opportunistic,

    /// <summary>Never deliver without STARTTLS (the next hop's certificate must be valid).</summary>
    Required,

    /// <summary>Plain SMTP (a next hop on the same machine).</summary>
    None,
}
