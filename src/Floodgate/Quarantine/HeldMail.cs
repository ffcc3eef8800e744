using Floodgate.Engine;
using Floodgate.Incidents;

namespace Floodgate.Quarantine;

/// <summary>
/// The one ledger of held mail over every place it sits: Postfix's hold queue and the relay's quarantine, whichever
/// enforcement point held it, by a suspension or a plain hold limit. Release and purge act on all of it.
/// </summary>
public sealed class HeldMail(IEnumerable<IHeldMail> places)
{
    private readonly IHeldMail[] _places = [.. places];

    public IReadOnlyList<IHeldMail> Places => _places;

    /// <summary>Everything held for <paramref name="identity"/> (or all held mail), up to <paramref name="limit"/> per place.</summary>
    public async Task<IReadOnlyList<HeldMailEntry>> ListAsync(Identity? identity, int limit)
    {
        var all = new List<HeldMailEntry>();
        foreach (var place in _places)
        {
            all.AddRange(await place.ListAsync(identity, limit));
        }

        return [.. all.OrderBy(e => e.HeldAt)];
    }

    /// <summary>How many messages are held for <paramref name="identity"/> in every place.</summary>
    public async Task<long> CountAsync(Identity identity)
    {
        long count = 0;
        foreach (var place in _places)
        {
            count += await place.CountAsync(identity);
        }

        return count;
    }

    private static async Task<long> SafeCountAsync(IHeldMail place, Identity identity)
    {
        try
        {
            return await place.CountAsync(identity);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return 0;
        }
    }

    /// <summary>Delivers or purges everything held for <paramref name="identity"/>, place by place; nothing when keeping.</summary>
    public async Task<IReadOnlyList<HeldMailRelease>> ReleaseAsync(Identity identity, ReleaseMode mode, string by)
    {
        var results = new List<HeldMailRelease>();
        if (mode == ReleaseMode.Keep)
        {
            return results;
        }

        foreach (var place in _places)
        {
            try
            {
                results.Add(await place.ReleaseAsync(identity, mode, by));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One place failing (its disk, its database) must not stop the release: what is left is reported.
                results.Add(new HeldMailRelease(place.Place, 0, (int)Math.Min(int.MaxValue, await SafeCountAsync(place, identity)), 0, e.Message));
            }
        }

        return results;
    }
}
