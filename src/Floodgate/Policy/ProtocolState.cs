namespace Floodgate.Policy;

/// <summary>The SMTP stage a Postfix policy request was made in (attribute protocol_state).</summary>
public enum ProtocolState
{
    Other,
    Connect,
    Helo,
    Mail,
    Rcpt,
    Data,
    EndOfMessage,
    Etrn,
    Vrfy,
}
