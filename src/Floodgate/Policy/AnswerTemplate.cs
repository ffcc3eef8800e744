using System.Text;
using Floodgate.Engine;

namespace Floodgate.Policy;

/// <summary>
/// A configured answer text ("4.7.1 Sending limit reached for {identity}...") split once into literal UTF-8 bytes and
/// placeholders, so each refusal is written straight into the connection's buffer without building strings.
/// </summary>
public sealed class AnswerTemplate
{
    /// <summary>An identity longer than this is cut in answers (Postfix limits its reply lines).</summary>
    public const int MaxIdentityChars = 256;

    private readonly (byte[]? Literal, string? Placeholder)[] _parts;

    public AnswerTemplate(string action, string text)
    {
        var parts = new List<(byte[]?, string?)> { (Encoding.UTF8.GetBytes(action + " "), null) };
        var rest = text;
        while (rest.Length > 0)
        {
            var open = rest.IndexOf('{', StringComparison.Ordinal);
            var close = open < 0 ? -1 : rest.IndexOf('}', open);
            var name = close < 0 ? null : rest[(open + 1)..close];
            if (name is not ("identity" or "rule" or "window"))
            {
                // Not a placeholder: keep the text up to and including this brace as it is.
                var upTo = open < 0 ? rest.Length : open + 1;
                parts.Add((Encoding.UTF8.GetBytes(rest[..upTo]), null));
                rest = rest[upTo..];
                continue;
            }

            if (open > 0)
            {
                parts.Add((Encoding.UTF8.GetBytes(rest[..open]), null));
            }

            parts.Add((null, name));
            rest = rest[(close + 1)..];
        }

        _parts = [.. parts];
        MaxBytes = _parts.Sum(p => p.Literal?.Length ?? (MaxIdentityChars * 3));
    }

    /// <summary>The most bytes <see cref="Render"/> writes.</summary>
    public int MaxBytes { get; }

    public int Render(Span<byte> destination, string identity, LimitRule? rule)
    {
        var n = 0;
        foreach (var (literal, placeholder) in _parts)
        {
            if (literal is not null)
            {
                literal.CopyTo(destination[n..]);
                n += literal.Length;
                continue;
            }

            var value = placeholder switch
            {
                "identity" => identity.AsSpan(0, Math.Min(identity.Length, MaxIdentityChars)),
                "rule" => (rule?.Name ?? "suspended").AsSpan(),
                _ => (rule?.WindowText ?? "").AsSpan(),
            };

            // An identity is the client's text: a CR in it would end Postfix's reply line early, an ESC reach a terminal.
            n += EchoedText.WriteUtf8(value, destination[n..]);
        }

        return n;
    }
}
