using System.Buffers;

namespace Floodgate.Relay;

/// <summary>
/// Reads a DATA body as it arrives: removes dot-stuffing, finds the CRLF.CRLF end, and writes the content to the
/// spool. Past the size limit it stops writing but keeps reading to the end, so the client gets its 552 and the
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
                // Fast path: copy up to the next CR in one write.
                var cr = span[i..].IndexOf((byte)'\r');
                var run = cr < 0 ? span.Length - i : cr + 1;
                Emit(span.Slice(i, run), output);
                i += run;
                if (cr >= 0)
                {
                    _position = Position.Cr;
                }

                continue;
            }

            var b = span[i++];
            switch (_position)
            {
                case Position.LineStart:
                    if (b == (byte)'.')
                    {
                        _position = Position.Dot;
                    }
                    else
                    {
                        Emit(b, output);
                        _position = b == (byte)'\r' ? Position.Cr : Position.Middle;
                    }

                    break;
                case Position.Dot:
                    // A leading dot is stuffing (RFC 5321 4.5.2): drop it, unless ".\r\n" ends the data.
                    if (b == (byte)'\r')
                    {
                        _position = Position.DotCr;
                    }
                    else
                    {
                        Emit(b, output);
                        _position = Position.Middle;
                    }

                    break;
                case Position.DotCr:
                    if (b == (byte)'\n')
                    {
                        done = true;
                        _position = Position.LineStart;
                        return i;
                    }

                    Emit((byte)'\r', output);
                    Emit(b, output);
                    _position = b == (byte)'\r' ? Position.Cr : Position.Middle;
                    break;
                case Position.Cr:
                    Emit(b, output);
                    _position = b switch
                    {
                        (byte)'\n' => Position.LineStart,
                        (byte)'\r' => Position.Cr,
                        _ => Position.Middle,
                    };
                    break;
            }
        }

        return i;
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
