namespace Floodgate.Configuration;

/// <summary>Bounds and answers of the Postfix policy listener.</summary>
public sealed record PolicyOptions
{
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    public int MaxAttributes { get; init; } = 256;

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public int MaxConnections { get; init; } = 1000;

    /// <summary>
    /// policy.rcpt_check: Postfix also asks at RCPT TO (deploy/postfix/main.cf.rcpt), so each message's recipient
    /// addresses reach Floodgate before it is counted; a unique_recipients limit needs it.
    /// </summary>
    public bool RcptCheck { get; init; }

    /// <summary>Unix socket permission bits: owner and group (whoever may connect can suspend any account).</summary>
    public UnixFileMode SocketMode { get; init; } = (UnixFileMode)0b110_110_000;

    /// <summary>The group id the Unix sockets are given (policy.socket_group), so Postfix's user may connect; null keeps Floodgate's own.</summary>
    public int? SocketGroup { get; init; }

    public string DeferText { get; init; } = "4.7.1 Sending limit reached for {identity}; please try again later";

    public string HoldText { get; init; } = "Floodgate: {identity} over limit {rule}";

    public string RejectText { get; init; } = "5.7.1 Sending limit reached for {identity}; message not accepted";

    /// <summary>The refusal of a message with more recipients than max_recipients_per_message allows (policy and relay alike).</summary>
    public const string TooManyRecipientsText = "5.5.3 Too many recipients in one message for {identity}; send it to fewer recipients at a time";
}
