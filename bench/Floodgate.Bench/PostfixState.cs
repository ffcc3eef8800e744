namespace Floodgate.Bench;

/// <summary>The SMTP stage at which Postfix consults the policy service for a generated request.</summary>
internal enum PostfixState
{
    /// <summary>smtpd_data_restrictions: once per message, recipient_count says how many recipients it has.</summary>
    Data,

    /// <summary>smtpd_recipient_restrictions: once per recipient, before the queue file exists.</summary>
    Rcpt,
}
