using System.Text;

namespace Floodgate.Relay;

/// <summary>One command line split into its verb and argument.</summary>
public readonly record struct SmtpCommand(SmtpVerb Verb, string Name, string Argument)
{
    /// <summary>Splits a command line (without its CRLF); the verb is case-insensitive.</summary>
    public static SmtpCommand Parse(ReadOnlySpan<byte> line)
    {
        var space = line.IndexOf((byte)' ');
        var verb = space < 0 ? line : line[..space];
        var argument = space < 0 ? "" : Encoding.UTF8.GetString(line[(space + 1)..]).Trim();
        var name = Encoding.ASCII.GetString(verb).ToUpperInvariant();
        var known = name switch
        {
            "EHLO" => SmtpVerb.Ehlo,
            "HELO" => SmtpVerb.Helo,
            "MAIL" => SmtpVerb.Mail,
            "RCPT" => SmtpVerb.Rcpt,
            "DATA" => SmtpVerb.Data,
            "RSET" => SmtpVerb.Rset,
            "NOOP" => SmtpVerb.Noop,
            "QUIT" => SmtpVerb.Quit,
            "VRFY" => SmtpVerb.Vrfy,
            "HELP" => SmtpVerb.Help,
            "STARTTLS" => SmtpVerb.StartTls,
            "AUTH" => SmtpVerb.Auth,
            _ => SmtpVerb.Unknown,
        };
        return new SmtpCommand(known, name, argument);
    }
}
