using System.Buffers;

namespace Floodgate.Relay;

/// <summary>
/// Reads a DATA body as it arrives: removes dot-stuffing, finds the CRLF.CRLF end (the only end), and writes the
/// content to the spool; a bare CR, a bare LF or a NUL marks the message <see cref="Refused"/>. Past the size limit it
/// stops writing but keeps reading to the end, so the client gets its 552 and the
/// session goes on; memory stays bounded whatever the client sends (lines are never collected).
/// </summary>
public sealed class MessageBodyReader
{
    private enum Position
    {
        LineStart,
        Dot,
        DotCr,
        Middle,
        Cr,
    }

    private readonly long _limit;
    private Position _position = Position.LineStart;

    public MessageBodyReader(long limit) => _limit = limit;

    /// <summary>Content bytes seen, including any past the limit.</summary>
    public long Length { get; private set; }

    /// <summary>True once the content went past the size limit.</summary>
    public bool TooLarge => Length > _limit;

    /// <summary>
    /// True once the content had a CR not followed by LF, an LF not after a CR, or a NUL byte: the message is refused,
    /// since the next hop could read its end, and so a second message hidden in it, differently (SMTP smuggling).
    /// </summary>
    public bool Refused { get; private set; }

    /// <summary>True when writing the content failed (a full disk): the rest is read and discarded, and nothing is kept.</summary>
    public bool WriteFailed { get; private set; }

    /// <summary>
    /// Consumes body bytes from <paramref name="buffer"/>, writing content to <paramref name="output"/>; true when the
    /// terminating "." line was read (<paramref name="buffer"/> then starts after it).
    /// </summary>
    public bool Read(ref ReadOnlySequence<byte> buffer, Stream output)
    {
        var consumed = 0L;
        var done = false;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            var used = Read(span, output, out done);
            consumed += used;
            if (done)
            {
                break;
            }
        }

        buffer = buffer.Slice(consumed);
        return done;
    }

    private int Read(ReadOnlySpan<byte> span, Stream output, out bool done)
    {
        var i = 0;
        done = false;
        while (i < span.Length)
        {
            if (_position == Position.Middle)
            {
                // Fast path: copy up to the next CR, LF or NUL in one write.
                var special = span[i..].IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
                var run = special < 0 ? span.Length - i : special;
                Emit(span.Slice(i, run), output);
                i += run;
                if (special < 0)
                {
                    continue;
                }
            }

            var b = span[i++];
            Refused |= b == 0;
            switch (_position)
            {
                case Position.LineStart when b == (byte)'.':
                    _position = Position.Dot;
                    break;

                // A leading dot is stuffing (RFC 5321 4.5.2): drop it, unless ".\r\n" ends the data.
                case Position.Dot when b == (byte)'\r':
                    _position = Position.DotCr;
                    break;
                case Position.DotCr when b == (byte)'\n':
                    done = true;
                    _position = Position.LineStart;
                    return i;
                case Position.DotCr:
                    Refused = true;
                    Emit((byte)'\r', output);
                    Next(b, output);
                    break;
                case Position.Cr when b == (byte)'\n':
                    Emit(b, output);
                    _position = Position.LineStart;
                    break;
                case Position.Cr:
                    Refused = true;
                    Next(b, output);
                    break;
                default:
                    Next(b, output);
                    break;
            }
        }

        return i;
    }

    // Any byte in the middle of a line. Only CRLF ends a line: after a bare LF the next "." is not a line start, so
    // "\n.\r\n" cannot end the data here while the next hop might see it as the end.
    private void Next(byte b, Stream output)
    {
        Emit(b, output);
        Refused |= b == (byte)'\n';
        _position = b == (byte)'\r' ? Position.Cr : Position.Middle;
    }

    private void Emit(byte b, Stream output)
    {
        if (++Length <= _limit && !WriteFailed)
        {
            Write(output, [b]);
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes, Stream output)
    {
        var room = _limit - Length;
        Length += bytes.Length;
        if (room > 0 && !WriteFailed)
        {
            Write(output, bytes[..(int)Math.Min(room, bytes.Length)]);
        }
    }

    // The client is still sending: keep reading to the final dot so it gets an answer, not a dropped connection.
    private void Write(Stream output, ReadOnlySpan<byte> bytes)
    {
        try
        {
            output.Write(bytes);
        }
        catch (IOException)
        {
            WriteFailed = true;
        }
    }
}
