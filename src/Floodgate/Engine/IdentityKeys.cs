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

    /// <summary>
    /// Derives the keys of a submission: logins and addresses normalised (<see cref="IdentityNormalizer"/>), the account by the fallback chain; the
    /// sender's domain only when <paramref name="withDomain"/> (a rule counts by it), since it costs a string.
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
        var account = !string.IsNullOrEmpty(submission.Account)
            ? IdentityNormalizer.Normalize(submission.Account)
            : fallback switch
            {
                FallbackIdentity.Sender => sender ?? ip,
                FallbackIdentity.ClientIp => ip,
                _ => null,
            };
        return new IdentityKeys(account, sender, domain, ip);
    }
}
