using System.Buffers;
using System.Text;
using Floodgate.Policy;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Policy;

public class PolicyRequestParserTests
{
    private static readonly byte[] DataRequest = Encoding.UTF8.GetBytes(
        PolicyClient.Request("DATA", "Alice@Example.com", "alice@example.com", 20, "4F2A1.ABC"));

    private static PolicyRequestParser NewParser(int maxBytes = 64 * 1024, int maxAttributes = 256) => new(maxBytes, maxAttributes);

    [Fact]
    public void Parser_ReadsTheAttributesFloodgateUses()
    {
        var buffer = new ReadOnlySequence<byte>(DataRequest);
        var request = new PolicyRequest();

        Assert.True(NewParser().TryParse(ref buffer, request));

        Assert.True(buffer.IsEmpty);
        Assert.Equal(ProtocolState.Data, request.State);
        Assert.Equal("Alice@Example.com", request.SaslUsername);
        Assert.Equal("alice@example.com", request.Sender);
        Assert.Equal(20, request.RecipientCount);
        Assert.Equal(1234, request.Size);
        Assert.Equal("192.0.2.10", request.ClientAddress);
        Assert.Equal("4F2A1.ABC", Encoding.ASCII.GetString(request.Instance));
        Assert.Equal(20, request.AttributeCount);
    }

    [Fact]
    public void Parser_EveryPrefixOfARequest_NeedsMoreBytes()
    {
        var request = new PolicyRequest();
        for (var length = 0; length < DataRequest.Length; length++)
        {
            var parser = NewParser();
            var buffer = new ReadOnlySequence<byte>(DataRequest, 0, length);
            Assert.False(parser.TryParse(ref buffer, request), $"a prefix of {length} bytes parsed as a whole request");
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void Parser_RequestSplitAtEveryPoint_ParsesTheSame()
    {
        for (var at = 0; at <= DataRequest.Length; at++)
        {
            var buffer = Segments.SplitAt(DataRequest, at);
            var request = new PolicyRequest();
            Assert.True(NewParser().TryParse(ref buffer, request), $"split at {at}");
            Assert.Equal("Alice@Example.com", request.SaslUsername);
            Assert.Equal(20, request.RecipientCount);
            Assert.Equal(ProtocolState.Data, request.State);
        }
    }

    [Fact]
    public void Parser_OneBytePerChunk_ParsesOnlyWhenTheLastByteArrives()
    {
        // The connection loop calls the parser after every read with everything unconsumed so far.
        var parser = NewParser();
        var request = new PolicyRequest();
        for (var received = 1; received <= DataRequest.Length; received++)
        {
            var buffer = Segments.OneBytePerSegment(DataRequest[..received]);
            var complete = parser.TryParse(ref buffer, request);
            Assert.Equal(received == DataRequest.Length, complete);
        }

        Assert.Equal("alice@example.com", request.Sender);
    }

    [Fact]
    public void Parser_SeveralRequestsInOneBuffer_ParsesEachInTurn()
    {
        var three = Encoding.UTF8.GetBytes(
            PolicyClient.Request("RCPT", "a@example.com", "a@example.com", 0, "1")
            + PolicyClient.Request("DATA", "b@example.com", "b@example.com", 2, "2")
            + PolicyClient.Request("END-OF-MESSAGE", "c@example.com", "c@example.com", 3, "3")
            + "request=smtpd_access");
        var buffer = new ReadOnlySequence<byte>(three);
        var parser = NewParser();
        var request = new PolicyRequest();
        var seen = new List<(ProtocolState, string?, int)>();
        while (parser.TryParse(ref buffer, request))
        {
            seen.Add((request.State, request.SaslUsername, request.RecipientCount));
        }

        Assert.Equal(
            [(ProtocolState.Rcpt, "a@example.com", 0), (ProtocolState.Data, "b@example.com", 2), (ProtocolState.EndOfMessage, "c@example.com", 3)],
            seen);
        Assert.Equal("request=smtpd_access", Encoding.ASCII.GetString(buffer.ToArray()));
    }

    [Fact]
    public void Parser_ValuesMissingOrEmpty_AreNullOrZero()
    {
        var buffer = new ReadOnlySequence<byte>("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=\nsasl_username=\nrecipient_count=x\n\n"u8.ToArray());
        var request = new PolicyRequest();
        Assert.True(NewParser().TryParse(ref buffer, request));
        Assert.Null(request.SaslUsername);
        Assert.Equal("", request.Sender);
        Assert.Equal(0, request.RecipientCount);
        Assert.Null(request.ClientAddress);
    }

    [Fact]
    public void Parser_CrLfLines_AreAccepted()
    {
        var buffer = new ReadOnlySequence<byte>("request=smtpd_access_policy\r\nprotocol_state=DATA\r\nsasl_username=bob\r\n\r\n"u8.ToArray());
        var request = new PolicyRequest();
        Assert.True(NewParser().TryParse(ref buffer, request));
        Assert.Equal("bob", request.SaslUsername);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData("request=smtpd_access_policy\nthis line has no equals sign\n\n", "line without name=value")]
    [InlineData("request=smtpd_access_policy\n=value\n\n", "empty name")]
    [InlineData("protocol_state=DATA\nsender=a@b\n\n", "request=smtpd_access_policy")]
    [InlineData("request=something_else\n\n", "request=smtpd_access_policy")]
    [InlineData("\n", "empty request")]
    public void Parser_MalformedRequest_Throws(string input, string problem)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(input));
        var e = Assert.Throws<PolicyProtocolException>(() => NewParser().TryParse(ref buffer, new PolicyRequest()));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_RequestOverTheSizeLimit_Throws_EvenBeforeItEnds()
    {
        var big = Encoding.UTF8.GetBytes("request=smtpd_access_policy\nsender=" + new string('x', 5000));
        var buffer = new ReadOnlySequence<byte>(big);
        var e = Assert.Throws<PolicyProtocolException>(() => NewParser(maxBytes: 4096).TryParse(ref buffer, new PolicyRequest()));
        Assert.Contains("larger than 4096 bytes", e.Message, StringComparison.Ordinal);

        var complete = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("request=smtpd_access_policy\nsender=" + new string('x', 5000) + "\n\n"));
        Assert.Throws<PolicyProtocolException>(() => NewParser(maxBytes: 4096).TryParse(ref complete, new PolicyRequest()));
    }

    [Fact]
    public void Parser_RequestAtTheSizeLimit_Parses()
    {
        var head = "request=smtpd_access_policy\nsender=";
        var bytes = Encoding.UTF8.GetBytes(head + new string('x', 4096 - head.Length - 2) + "\n\n");
        Assert.Equal(4096, bytes.Length);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(NewParser(maxBytes: 4096).TryParse(ref buffer, new PolicyRequest()));
    }

    [Fact]
    public void Parser_TooManyAttributes_Throws()
    {
        var text = "request=smtpd_access_policy\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"x{i}=y\n")) + "\n";
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text));
        var e = Assert.Throws<PolicyProtocolException>(() => NewParser(maxAttributes: 16).TryParse(ref buffer, new PolicyRequest()));
        Assert.Contains("more than 16 attributes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_RepeatedValues_ReuseTheirStrings()
    {
        var parser = NewParser();
        var request = new PolicyRequest();
        var first = new ReadOnlySequence<byte>(DataRequest);
        parser.TryParse(ref first, request);
        var login = request.SaslUsername;
        var second = new ReadOnlySequence<byte>(DataRequest);
        parser.TryParse(ref second, request);
        Assert.Same(login, request.SaslUsername);
    }
}
