using Floodgate.Engine;

namespace Floodgate.Pipeline;

/// <summary>Records mail an enforcement point has just held, so release and purge can find all of it later.</summary>
public interface IHeldMailRecorder
{
    /// <summary>Notes that the message <paramref name="submission"/> names by its queue id was held, and why.</summary>
    void Held(in Submission submission, in Decision decision, string enforcementPoint);
}
