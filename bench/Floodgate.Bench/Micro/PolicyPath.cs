using System.Buffers;
using System.Collections;
using System.Globalization;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Pipeline;
using Floodgate.Policy;
using Floodgate.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floodgate.Bench.Micro;

/// <summary>
/// One policy connection's hot path as <see cref="PolicyConnectionHandler"/> runs it, without the socket: parse into the
/// connection's reused request, decide through the decision pipeline with an in-memory engine (trust, fail mode,
/// answer rendered into the connection's reused buffer, decision log), copy the answer out.
/// </summary>
internal sealed class PolicyPath
{
    private readonly PolicyRequestParser _parser;
    private readonly PolicyRequest _request = new();
    private readonly ArrayBufferWriter<byte> _output = new(256);
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly DecisionPipeline _pipeline;
    private readonly EnforcementPoint _point;
    private readonly DecisionScratch _scratch;

    public PolicyPath(FloodgateOptions options, DecisionLog log)
    {
        _parser = new PolicyRequestParser(options.Policy.MaxRequestBytes, options.Policy.MaxAttributes);
        var engine = new DecisionEngine(options.Rules, new MemoryCounterStore(options.Rules), new MemoryAccountStore());
        _pipeline = new DecisionPipeline(engine, options, log, NullLogger<DecisionPipeline>.Instance);
        _point = new EnforcementPoint("policy", new PolicyAnswers(options.Policy, options.FailMode), options.TrustedNetworks);
        _scratch = _pipeline.NewScratch(_point);
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
        _scratch.QueueId = request.QueueIdMemory;

        // The memory stores complete synchronously, so this takes the result without a Task, as the handler's await does.
        var pending = _pipeline.DecideAsync(_point, submission, stage, _scratch, "DATA");
        _ = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

        // As the connection handler does: the answer rendered by the pipeline is copied into the output.
        _output.ResetWrittenCount();
        var length = _scratch.Answer.Length;
        _scratch.Answer.CopyTo(_output.GetSpan(length));
        _output.Advance(length);
        return _output.WrittenCount;
    }
}
