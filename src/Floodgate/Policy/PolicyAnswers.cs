using System.Buffers;
using System.Text;
using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Policy;

/// <summary>Turns verdicts into policy answers: DUNNO, DEFER_IF_PERMIT, HOLD or a 550 reply, with the configured texts.</summary>
public sealed class PolicyAnswers
{
    private readonly PolicyOptions _options;
    private readonly byte[] _failAnswer;

    public PolicyAnswers(PolicyOptions options, FailMode failMode)
    {
        _options = options;
        _failAnswer = failMode == FailMode.Open ? PolicyAttributes.DunnoAnswer.ToArray() : PolicyAttributes.FailClosedAnswer.ToArray();
    }

    private const string Dunno = "DUNNO";

    /// <summary>The answer written when a decision fails inside Floodgate.</summary>
    public ReadOnlySpan<byte> Failure => _failAnswer;

    /// <summary>The action (without "action=") for a decision, for answers and log lines.</summary>
    public string ActionFor(in Decision decision) => decision.Verdict switch
    {
        Verdict.Accept => Dunno,
        Verdict.Defer => "DEFER_IF_PERMIT " + Fill(_options.DeferText, decision),
        Verdict.Hold => "HOLD " + Fill(_options.HoldText, decision),
        _ => "550 " + Fill(_options.RejectText, decision),
    };

    /// <summary>Writes the whole answer, "action=...\n\n", for an action from <see cref="ActionFor"/>.</summary>
    public static void Write(IBufferWriter<byte> output, string action)
    {
        if (ReferenceEquals(action, Dunno))
        {
            output.Write(PolicyAttributes.DunnoAnswer);
            return;
        }

        var span = output.GetSpan(PolicyAttributes.ActionPrefix.Length + Encoding.UTF8.GetMaxByteCount(action.Length) + 2);
        PolicyAttributes.ActionPrefix.CopyTo(span);
        var n = PolicyAttributes.ActionPrefix.Length;
        n += Encoding.UTF8.GetBytes(action, span[n..]);
        span[n++] = (byte)'\n';
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    private static string Fill(string template, in Decision decision)
    {
        var identity = decision.Suspension?.Identity.Key ?? decision.Identity?.Key ?? "this sender";
        var rule = decision.Rule;
        return template
            .Replace("{identity}", identity, StringComparison.Ordinal)
            .Replace("{rule}", rule?.Name ?? "suspended", StringComparison.Ordinal)
            .Replace("{window}", rule?.WindowText ?? "", StringComparison.Ordinal);
    }
}
