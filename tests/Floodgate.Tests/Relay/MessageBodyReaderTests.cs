using System.Buffers;
using System.Text;
using Floodgate.Relay;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay;

/// <summary>DATA bodies: dot-unstuffing and the end marker found at every split point; the size limit costs no memory.</summary>
public sealed class MessageBodyReaderTests
{
    public static TheoryData<string, string> Bodies => new()
    {
        { ".\r\n", "" },
        { "a\r\n.\r\n", "a\r\n" },
        { "..leading dot\r\n.\r\n", ".leading dot\r\n" },
        { "line\r\n..\r\n.\r\n", "line\r\n.\r\n" },
        { "not.\r\n. not the end\r\n.\r\n", "not.\r\n not the end\r\n" },
        { "a\r\n.\r\nMAIL FROM:<x@y>\r\n", "a\r\n" },
    };

    // Bare CR, bare LF and NUL: the SMTP smuggling primitives, and line endings this relay and the next hop could read
    // differently. Only CRLF.CRLF ends the data; the message is refused.
    public static TheoryData<string> Refused =>
    [
        "hello\r.\rMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\r.\r\nMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\r\n\0.\r\nMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\n.\nMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\n.\r\nMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\r\n.\nMAIL FROM:<ceo@x>\r\n.\r\n",
        "hello\r\n.\rMAIL FROM:<ceo@x>\r\n.\r\n",
        ".\rx\r\n.\r\n",
        "cr\r\r\n.\r\n",
        "bare\nlf\r\n.\r\nQUIT\r\n",
        "ends in cr\r",
    ];

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Read_UnstuffsAndFindsTheEnd_AtEverySplitPoint(string wire, string content)
    {
        var bytes = Encoding.ASCII.GetBytes(wire);
        var end = wire.StartsWith(".\r\n", StringComparison.Ordinal) ? 3 : wire.IndexOf("\r\n.\r\n", StringComparison.Ordinal) + 5;
        for (var split = 0; split <= bytes.Length; split++)
        {
            var reader = new MessageBodyReader(1 << 20);
            using var output = new MemoryStream();
            var buffer = Segments.SplitAt(bytes, split);
            Assert.True(reader.Read(ref buffer, output), $"split {split}: end not found");
            Assert.Equal(content, Encoding.ASCII.GetString(output.ToArray()));
            Assert.Equal(wire[end..], Encoding.ASCII.GetString(buffer.ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Read_BareCrBareLfOrNul_IsRefused_AndOnlyCrLfDotCrLfEnds_AtEverySplitPoint(string wire)
    {
        var bytes = Encoding.ASCII.GetBytes(wire);
        var end = wire.IndexOf("\r\n.\r\n", StringComparison.Ordinal);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var reader = new MessageBodyReader(1 << 20);
            using var output = new MemoryStream();
            var buffer = Segments.SplitAt(bytes, split);
            var done = reader.Read(ref buffer, output);
            if (end < 0)
            {
                // "ends in cr\r": no end yet, and the CR may still be followed by its LF.
                Assert.False(done, $"split {split}");
                continue;
            }

            Assert.True(done, $"split {split}: end not found");
            Assert.True(reader.Refused, $"split {split}: not refused");
            Assert.Equal(wire[(end + 5)..], Encoding.ASCII.GetString(buffer.ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Read_CrLfOnly_IsNotRefused(string wire, string content)
    {
        var reader = new MessageBodyReader(1 << 20);
        using var output = new MemoryStream();
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire));
        Assert.True(reader.Read(ref buffer, output));
        Assert.False(reader.Refused);
        Assert.Equal(content, Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Read_OneByteAtATime_GivesTheSameContent()
    {
        var wire = Encoding.ASCII.GetBytes("Subject: x\r\n\r\n..one\r\n...two\r\n.\r\n");
        var reader = new MessageBodyReader(1 << 20);
        using var output = new MemoryStream();
        var done = false;
        for (var i = 0; i < wire.Length && !done; i++)
        {
            var one = new ReadOnlySequence<byte>(wire, i, 1);
            done = reader.Read(ref one, output);
            Assert.True(one.IsEmpty);
        }

        Assert.True(done);
        Assert.Equal("Subject: x\r\n\r\n.one\r\n..two\r\n", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Read_PastTheLimit_WritesNothingMoreButFindsTheEnd()
    {
        var reader = new MessageBodyReader(100);
        using var output = new MemoryStream();
        var chunk = Encoding.ASCII.GetBytes(new string('x', 4096));
        for (var i = 0; i < 1000; i++)
        {
            var sequence = new ReadOnlySequence<byte>(chunk);
            Assert.False(reader.Read(ref sequence, output));
        }

        var end = new ReadOnlySequence<byte>("\r\n.\r\n"u8.ToArray());
        Assert.True(reader.Read(ref end, output));
        Assert.True(reader.TooLarge);
        Assert.Equal(100, output.Length);
        Assert.Equal((4096L * 1000) + 2, reader.Length);
    }
}
