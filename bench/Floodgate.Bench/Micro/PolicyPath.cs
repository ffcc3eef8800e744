using System.Buffers;
using System.Collections;
using System.Globalization;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Policy;
using Floodgate.Storage;

namespace Floodgate.Bench.Micro;

/// <summary>
/// One policy connection's hot path as <see cref="PolicyConnectionHandler"/> runs it, without the socket: parse into the
/// connection's reused request, decide with an in-memory engine, write the answer into a reused buffer, log.
/// </summary>
internal sealed class PolicyPath
{
    private readonly PolicyRequestParser _parser;
    private readonly PolicyRequest _request = new();
    private readonly ArrayBufferWriter<byte> _output = new(256);
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly DecisionEngine _engine;
    private readonly PolicyAnswers _answers;
    private readonly DecisionLog _log;
    private readonly long[] _counts;

    public PolicyPath(FloodgateOptions options, DecisionLog log)
    {
        _parser = new PolicyRequestParser(options.Policy.MaxRequestBytes, options.Policy.MaxAttributes);
        _engine = new DecisionEngine(options.Rules, new MemoryCounterStore(options.Rules), new MemoryAccountStore());
        _answers = new PolicyAnswers(options.Policy, options.FailMode);
        _log = log;
        _counts = new long[options.Rules.Rules.Count];
    }

    /// <summary>
    /// The embedded default configuration's three rules (burst, hourly, daily), with their limits set through the
    /// documented FLOODGATE_LIMITS__NAME__MAX overrides.
    /// </summary>
    public static FloodgateOptions DefaultRules(long burstMax, long otherMax)
    {
        var environment = new Hashtable
        {
            ["FLOODGATE_LIMITS__BURST__MAX"] = burstMax.ToString(CultureInfo.InvariantCulture),
            ["FLOODGATE_LIMITS__HOURLY__MAX"] = otherMax.ToString(CultureInfo.InvariantCulture),
            ["FLOODGATE_LIMITS__DAILY__MAX"] = otherMax.ToString(CultureInfo.InvariantCulture),
        };
        var options = ConfigLoader.Parse(ConfigLoader.EmbeddedDefault(), "embedded default", environment);
        return options.Rules.Rules.Count == 3
            ? options
            : throw new InvalidOperationException($"expected the three default rules, found {options.Rules.Rules.Count}");
    }

    /// <summary>The answer written for the last request.</summary>
    public ReadOnlySpan<byte> Answer => _output.WrittenSpan;

    /// <summary>Answers one request; returns the answer's length.</summary>
    public int Handle(byte[] requestBytes)
    {
        var buffer = new ReadOnlySequence<byte>(requestBytes);
        if (!_parser.TryParse(ref buffer, _request))
        {
            throw new InvalidOperationException("the benchmark request is incomplete");
        }

        var request = _request;
        var stage = request.State is ProtocolState.Data or ProtocolState.EndOfMessage ? DecisionStage.Count : DecisionStage.Check;
        var submission = new Submission(request.SaslUsername, request.Sender, request.RecipientCount, request.Size,
            request.ClientAddress, _time.GetUtcNow());

        // The memory stores complete synchronously, so this takes the result without a Task, as the handler's await does.
        var pending = _engine.DecideAsync(submission, stage, _counts);
        var decision = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

        // As the connection handler does: the answer is rendered into the output buffer, and the log takes its action bytes.
        _output.ResetWrittenCount();
        var span = _output.GetSpan(_answers.MaxAnswerBytes);
        var length = _answers.Format(span, decision);
        _log.Write("policy", submission, decision, _counts, _engine.Rules, "DATA", span[7..(length - 2)]);
        _output.Advance(length);
        return _output.WrittenCount;
    }
}
