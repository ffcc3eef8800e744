using System.CommandLine;
using System.Text;

namespace Floodgate.Cli;

/// <summary>floodgate(8) in roff, written from the CLI's own verbs, options and descriptions (so it never drifts from --help).</summary>
internal static class ManPage
{
    public static string Render(RootCommand root, string version)
    {
        var page = new StringBuilder();
        page.Append(".TH FLOODGATE 8 \"\" \"floodgate ").Append(Escape(version)).Append("\" \"System Administration\"\n");
        page.Append(".SH NAME\nfloodgate \\- per-account outbound mail limits: holds a hijacked account's mail and alerts the admin\n");
        page.Append(".SH SYNOPSIS\n.B floodgate\n.I command\n.RI [ options ]\n.br\n.B floodgate\n.B \\-\\-version\n");
        page.Append(".SH DESCRIPTION\n").Append(Escape(root.Description ?? "")).Append('\n');
        page.Append(".PP\nFloodgate counts what every mail account sends, as a Postfix policy service and as an SMTP relay (smart host). ")
            .Append("When an account goes over its limits its mail is deferred, held or rejected; a suspend limit stops the account, ")
            .Append("holds its mail, opens an incident and alerts the admin once.\n")
            .Append(".B floodgate serve\nruns the daemon; the other commands validate configuration or talk to a running daemon's admin API.\n");
        page.Append(".SH COMMANDS\n");
        foreach (var (path, command) in CommandTree.Walk(root))
        {
            page.Append(".SS \"floodgate ").Append(Escape(path));
            foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            {
                page.Append(argument.Arity.MinimumNumberOfValues == 0 ? $" [{Escape(argument.Name)}]" : $" {Escape(argument.Name)}");
            }

            page.Append("\"\n").Append(Escape(command.Description ?? "")).Append('\n');
            foreach (var argument in command.Arguments.Where(a => !a.Hidden && a.Description is not null))
            {
                page.Append(".TP\n.I ").Append(Escape(argument.Name)).Append('\n').Append(Escape(argument.Description!)).Append('\n');
            }

            foreach (var option in command.Options.Where(o => !o.Hidden))
            {
                page.Append(".TP\n.B ").Append(string.Join(", ", CommandTree.NamesOf(option).Select(Escape)));
                if (CommandTree.TakesValue(option))
                {
                    page.Append(" \\fI").Append(Escape(option.HelpName ?? option.Name.TrimStart('-').ToUpperInvariant())).Append("\\fR");
                }

                page.Append('\n').Append(Escape(option.Description ?? "")).Append('\n');
            }
        }

        page.Append(".SH FILES\n");
        foreach (var (file, what) in Files)
        {
            page.Append(".TP\n.I ").Append(Escape(file)).Append('\n').Append(Escape(what)).Append('\n');
        }

        page.Append(".SH ENVIRONMENT\n.TP\n.B FLOODGATE_CONFIG\nThe configuration file when no \\-\\-config is given.\n")
            .Append(".TP\n.B FLOODGATE_\\fIKEY\\fB__\\fISUBKEY\\fR\nOverrides one configuration key, for example FLOODGATE_FAIL_MODE=closed.\n")
            .Append(".TP\n.B FLOODGATE_TOKEN\nThe admin API token for the admin commands.\n");
        page.Append(".SH EXIT STATUS\n0 on success; 1 on a failure, with a one-line reason on standard error; 2 when the configuration cannot be used.\n");
        page.Append(".SH SEE ALSO\n.BR postconf (5),\n.BR postsuper (1),\n.BR systemctl (1)\n");
        return page.ToString();
    }

    private static readonly (string File, string What)[] Files =
    [
        ("/etc/floodgate/floodgate.yml", "The configuration of the packaged service (floodgate default-config prints the embedded default it started from)."),
        ("/var/lib/floodgate/admin.token", "The admin API's bearer token, mode 0600, generated on first start."),
        ("/var/lib/floodgate/admin.password", "The dashboard's generated password, mode 0600, until floodgate set-password replaces it with a hash."),
        ("/var/lib/floodgate/floodgate.db", "Suspensions, incidents, saved counters and the audit log (SQLite)."),
        ("/var/lib/floodgate/spool/", "The relay's spool: outbound queue and quarantine."),
    ];

    // roff: a backslash starts an escape, and a line starting with '.' or '\'' would be a request.
    private static string Escape(string text)
    {
        var escaped = text.Replace("\\", "\\e", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal);
        return escaped.Length > 0 && escaped[0] is '.' or '\'' ? "\\&" + escaped : escaped;
    }
}
