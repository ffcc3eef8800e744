namespace Floodgate.Engine;

/// <summary>How far a submission without a login is believed about who sent it.</summary>
public enum ClientTrust
{
    /// <summary>From a trusted network (webmail on localhost, a mail server relaying for its users): the configured fallback names the account.</summary>
    Trusted = 0,

    /// <summary>From anywhere else: the envelope sender may be forged, so it is never an account.</summary>
    Untrusted = 1,
}
