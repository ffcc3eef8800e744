using System.Text;

namespace Floodgate.Alerts;

/// <summary>
/// The alert text as a chat webhook gets it. Evidence (subjects, senders, the account) is the sender's own text, so
/// nothing in it may become markup: Slack's documented escaping of "&amp;", "&lt;" and "&gt;" (only "&lt;...&gt;" makes a
/// mention or a link there), and for Markdown chats (Mattermost, Teams) a zero-width space that breaks "](" links and
/// "@" mentions (@channel, @all, @here, @user), which show the same but do nothing.
/// </summary>
internal static class ChatText
{
    private const char Break = '\u200B';

    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 32);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            switch (c)
            {
                case '&':
                    escaped.Append("&amp;");
                    break;
                case '<':
                    escaped.Append("&lt;");
                    break;
                case '>':
                    escaped.Append("&gt;");
                    break;

                // An address's "@" (alice@example.com) follows a letter and mentions no one: it is left alone.
                case '@' when char.IsLetterOrDigit(next) && (i == 0 || !char.IsLetterOrDigit(text[i - 1])):
                case ']' when next == '(':
                    escaped.Append(c).Append(Break);
                    break;
                default:
                    escaped.Append(c);
                    break;
            }
        }

        return escaped.ToString();
    }
}
