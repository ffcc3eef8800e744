using Floodgate.Engine;

namespace Floodgate.Pipeline;

/// <summary>An enforcement point's protocol half of a decision: the verdict written as that protocol's answer.</summary>
public interface IVerdictRenderer
{
    /// <summary>The most bytes <see cref="Render"/> writes.</summary>
    int MaxAnswerBytes { get; }

    /// <summary>
    /// Writes the whole answer for <paramref name="decision"/> into <paramref name="destination"/> and returns its
    /// length; <paramref name="action"/> is the part of it the decision log shows as action=.
    /// </summary>
    int Render(in Submission submission, in Decision decision, Span<byte> destination, out Range action);
}
