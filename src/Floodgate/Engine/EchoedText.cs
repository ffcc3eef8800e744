using System.Buffers;
using System.Text;

namespace Floodgate.Engine;

/// <summary>
/// Text from a client (an identity, a sender) put into an answer, a log line or a hook's environment: every control
/// character (C0, DEL, C1; CR and ESC among them) becomes "?", so no client can end a line or drive a terminal.
/// </summary>
public static class EchoedText
{
    /// <summary>The control characters, Unicode category Cc.</summary>
    public static readonly SearchValues<char> Controls = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 32).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c)));

    /// <summary><paramref name="text"/> with each control character replaced by "?"; the same string when it has none.</summary>
    public static string Printable(string text)
    {
        if (text.AsSpan().IndexOfAny(Controls) < 0)
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 with "?" for each control character; returns the bytes written.</summary>
    public static int WriteUtf8(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var n = 0;
        while (true)
        {
            // Control characters are never surrogates: cutting the text at them keeps every pair whole.
            var control = text.IndexOfAny(Controls);
            n += Encoding.UTF8.GetBytes(control < 0 ? text : text[..control], destination[n..]);
            if (control < 0)
            {
                return n;
            }

            destination[n++] = (byte)'?';
            text = text[(control + 1)..];
        }
    }
}
