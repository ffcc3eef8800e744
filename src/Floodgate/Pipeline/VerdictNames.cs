using Floodgate.Engine;

namespace Floodgate.Pipeline;

/// <summary>
/// The renderer of an enforcement point that answers nobody (replay, the log watch): its "answer" is the verdict's
/// name behind a prefix, which is all the decision log shows as action=.
/// </summary>
public sealed class VerdictNames(string prefix = "") : IVerdictRenderer
{
    public int MaxAnswerBytes => prefix.Length + 16;

    public int Render(in Submission submission, in Decision decision, Span<byte> destination, out Range action)
    {
        var n = System.Text.Encoding.ASCII.GetBytes(prefix, destination);
        n += System.Text.Encoding.ASCII.GetBytes(ScopeNames.Of(decision.Verdict), destination[n..]);
        action = ..n;
        return n;
    }
}
