using System.Buffers;
using BenchmarkDotNet.Attributes;
using Floodgate.Configuration;
using Floodgate.Policy;

namespace Floodgate.Bench.Micro;

/// <summary>Parsing one Postfix DATA-state request into the connection's reused <see cref="PolicyRequest"/>.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class ParserBenchmarks
{
    private readonly PolicyRequestParser _parser = new(new PolicyOptions().MaxRequestBytes, new PolicyOptions().MaxAttributes);
    private readonly PolicyRequest _request = new();
    private byte[] _sameMessage = [];
    private byte[][] _newMessages = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _sameMessage = PostfixDataRequest.Build("user42@example.com", client: 7, message: 0x3F2A41C0E5);

        // The same login on one connection, but every message has its own queue_id and instance, as in real traffic.
        _newMessages = new byte[1000][];
        for (var i = 0; i < _newMessages.Length; i++)
        {
            _newMessages[i] = PostfixDataRequest.Build("user42@example.com", client: 7, message: 0x3F2A41C0E5 + i);
        }
    }

    /// <summary>The identical request again: every cached value repeats, the floor of the parser's cost.</summary>
    [Benchmark(Baseline = true)]
    public int Parse_IdenticalRequest() => Parse(_sameMessage);

    /// <summary>A new message from the same login: queue_id and instance change.</summary>
    [Benchmark]
    public int Parse_NextMessage()
    {
        var bytes = _newMessages[_next];
        _next = _next + 1 == _newMessages.Length ? 0 : _next + 1;
        return Parse(bytes);
    }

    private int Parse(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        if (!_parser.TryParse(ref buffer, _request))
        {
            throw new InvalidOperationException("the benchmark request is incomplete");
        }

        return _request.AttributeCount;
    }
}
