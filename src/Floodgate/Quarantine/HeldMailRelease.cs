namespace Floodgate.Quarantine;

/// <summary>What a release did in one place: how many messages it delivered or purged, and how many it could not, and why.</summary>
/// <param name="Place">The place, as <see cref="IHeldMail.Place"/> names it.</param>
/// <param name="Acted">Messages delivered (back into the outbound path) or purged.</param>
/// <param name="Left">Messages still held there for the identity after the release.</param>
/// <param name="Gone">Messages recorded as held that were no longer there (deleted or released by hand).</param>
/// <param name="Problem">What went wrong, or null.</param>
public sealed record HeldMailRelease(string Place, int Acted, int Left, int Gone, string? Problem)
{
    /// <summary>"1980 delivered from the postfix hold queue; 3 left: ..." for the incident's timeline and the CLI.</summary>
    public string Describe(string verb) =>
        $"{Acted} {verb} from the {Place}"
        + (Gone > 0 ? $"; {Gone} were no longer there (released or deleted by hand)" : "")
        + (Left > 0 ? $"; {Left} left there" : "")
        + (Problem is null ? "" : $" ({Problem})");
}
