using System.Collections.Frozen;

namespace Floodgate.Relay;

/// <summary>
/// Which command each state accepts and the state it leads to when it succeeds; anything else is answered
/// "503 bad sequence" and the session stays where it is. Commands valid everywhere (NOOP, RSET, QUIT, VRFY, HELP)
/// are in every row.
/// </summary>
public static class SmtpStateTable
{
    private static readonly FrozenDictionary<(SmtpState, SmtpVerb), SmtpState> Next = Build();

    /// <summary>The state after <paramref name="verb"/> succeeds in <paramref name="state"/>, or false when it is out of sequence.</summary>
    public static bool TryNext(SmtpState state, SmtpVerb verb, out SmtpState next) => Next.TryGetValue((state, verb), out next);

    private static FrozenDictionary<(SmtpState, SmtpVerb), SmtpState> Build()
    {
        var table = new Dictionary<(SmtpState, SmtpVerb), SmtpState>();
        foreach (var state in Enum.GetValues<SmtpState>())
        {
            // A new greeting or RSET ends any transaction; NOOP, VRFY and HELP leave the state alone.
            table[(state, SmtpVerb.Ehlo)] = SmtpState.Ready;
            table[(state, SmtpVerb.Helo)] = SmtpState.Ready;
            table[(state, SmtpVerb.Rset)] = state == SmtpState.Connected ? SmtpState.Connected : SmtpState.Ready;
            table[(state, SmtpVerb.Noop)] = state;
            table[(state, SmtpVerb.Vrfy)] = state;
            table[(state, SmtpVerb.Help)] = state;
            table[(state, SmtpVerb.Quit)] = state;
        }

        // STARTTLS restarts the dialogue: the client must greet again over TLS (RFC 3207).
        table[(SmtpState.Ready, SmtpVerb.StartTls)] = SmtpState.Connected;
        table[(SmtpState.Ready, SmtpVerb.Auth)] = SmtpState.Ready;
        table[(SmtpState.Ready, SmtpVerb.Mail)] = SmtpState.Mail;
        table[(SmtpState.Mail, SmtpVerb.Rcpt)] = SmtpState.Recipients;
        table[(SmtpState.Recipients, SmtpVerb.Rcpt)] = SmtpState.Recipients;
        table[(SmtpState.Recipients, SmtpVerb.Data)] = SmtpState.Ready;
        return table.ToFrozenDictionary();
    }
}
