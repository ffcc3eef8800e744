using Floodgate.Engine;

namespace Floodgate.Tests.Support;

internal static class EngineExtensions
{
    /// <summary>Decides over memory stores, which must complete without ever going asynchronous.</summary>
    public static Decision DecideNow(this DecisionEngine engine, Submission submission, DecisionStage stage = DecisionStage.Count, long[]? counts = null)
    {
        var pending = engine.DecideAsync(submission, stage, counts);
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("a decision over memory stores went asynchronous");
        }

        return pending.Result;
    }
}
