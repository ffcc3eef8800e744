namespace Floodgate.Engine;

/// <summary>The normalised key of a submission in each scope; null where the submission has none.</summary>
public readonly struct IdentityKeys
{
    public IdentityKeys(string? account, string? sender, string? senderDomain, string? clientIp)
    {
        Account = account;
        Sender = sender;
        SenderDomain = senderDomain;
        ClientIp = clientIp;
    }

    public string? Account { get; }

    public string? Sender { get; }

    public string? SenderDomain { get; }

    public string? ClientIp { get; }

    public string? this[Scope scope] => scope switch
    {
        Scope.Account => Account,
        Scope.Sender => Sender,
        Scope.SenderDomain => SenderDomain,
        _ => ClientIp,
    };

    /// <summary>What marks the sender keys of mail without a login that is not an account: no real address ends so.</summary>
    public const string NoLoginMark = " (no login)";

    /// <summary>
    /// Derives the keys of a submission: logins and addresses normalised (<see cref="IdentityNormalizer"/>), the account by the fallback chain; the
    /// sender's domain only when <paramref name="withDomain"/> (a rule counts by it), since it costs a string.
    /// Mail without a login is an account only from a trusted network and where the admin says so
    /// (<c>identity.fallback: sender</c> or <c>client_ip</c>); otherwise its sender keys carry <see cref="NoLoginMark"/>,
    /// so a forged sender never counts against, nor suspends, a real login's address.
    /// </summary>
    public static IdentityKeys Of(in Submission submission, FallbackIdentity fallback, bool withDomain = true)
    {
        // The normaliser returns the same string when it is already normal ASCII: no allocation on the common path.
        var sender = string.IsNullOrEmpty(submission.Sender) ? null : IdentityNormalizer.Normalize(submission.Sender);
        string? domain = null;
        if (sender is not null && withDomain)
        {
            var at = sender.LastIndexOf('@');
            domain = at >= 0 && at < sender.Length - 1 ? sender[(at + 1)..] : null;
        }

        var ip = string.IsNullOrEmpty(submission.ClientAddress) ? null : submission.ClientAddress;
        if (!string.IsNullOrEmpty(submission.Account))
        {
            return new IdentityKeys(IdentityNormalizer.Normalize(submission.Account), sender, domain, ip);
        }

        var trusted = submission.Trust == ClientTrust.Trusted;
        if (trusted && fallback == FallbackIdentity.Sender)
        {
            return new IdentityKeys(sender ?? ip, sender, domain, ip);
        }

        return new IdentityKeys(trusted && fallback == FallbackIdentity.ClientIp ? ip : null,
            sender is null ? null : sender + NoLoginMark, domain is null ? null : domain + NoLoginMark, ip);
    }
}
