using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Behaviour;

/// <summary>
/// Knows each account by its profile and acts on a sudden change: every message the decision pipeline accepts is
/// noted in its account's profile and scored against it; over <see cref="BehaviourOptions.ProbationAt"/> the account
/// is on probation (its new mail is held), over <see cref="BehaviourOptions.SuspendAt"/>, or still high
/// <see cref="BehaviourOptions.EscalateTime"/> after its probation began, it is suspended. An account with too little
/// history is only learned, never scored: the static limits alone apply to it.
/// </summary>
public sealed class BehaviourWatch
{
    private readonly ConcurrentDictionary<string, AccountProfile> _profiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AccountProfile> _onProbation = new(StringComparer.Ordinal);
    private readonly Lock _evicting = new();

    public BehaviourWatch(BehaviourOptions options)
    {
        Options = options;
    }

    public BehaviourOptions Options { get; }

    /// <summary>Where a behaviour suspension is stored: the same account store the limits suspend in.</summary>
    public IAccountStore? Accounts { get; init; }

    /// <summary>Profiles held in memory.</summary>
    public int Count => _profiles.Count;

    /// <summary>True when some account is on probation now (cheap: takes no lock).</summary>
    public bool AnyOnProbation => !_onProbation.IsEmpty;

    /// <summary>Accounts on probation now.</summary>
    public IReadOnlyCollection<string> OnProbation => [.. _onProbation.Keys];

    /// <summary>The profile of <paramref name="account"/>, or null when it has none.</summary>
    public AccountProfile? Find(string account) => _profiles.TryGetValue(account, out var profile) ? profile : null;

    /// <summary>Every profile (for saving), in no order.</summary>
    public IEnumerable<AccountProfile> Profiles => _profiles.Values;

    /// <summary>Takes profiles a store saved (at start); a profile of another layout is dropped and learned afresh.</summary>
    public int Load(IEnumerable<(string Account, byte[] State)> saved)
    {
        var loaded = 0;
        foreach (var (account, state) in saved)
        {
            if (AccountProfile.FromBytes(account, state) is { } profile)
            {
                _profiles[account] = profile;
                if (profile.OnProbation)
                {
                    _onProbation[account] = profile;
                }

                loaded++;
            }
        }

        return loaded;
    }

    /// <summary>Writes every profile changed since the last save to <paramref name="store"/>; returns how many.</summary>
    public int SaveTo(IProfileStore store)
    {
        var changed = new List<(string, byte[])>();
        foreach (var profile in _profiles.Values)
        {
            lock (profile.Gate)
            {
                if (profile.Dirty)
                {
                    changed.Add((profile.Account, profile.ToBytes()));
                    profile.Dirty = false;
                }
            }
        }

        try
        {
            store.Save(changed);
        }
        catch
        {
            // Saved next time: marked changed again.
            foreach (var (account, _) in changed)
            {
                if (Find(account) is { } profile)
                {
                    profile.Dirty = true;
                }
            }

            throw;
        }

        return changed.Count;
    }

    /// <summary>Notes one recipient of an account's message before the message itself is decided (the policy service's RCPT stage).</summary>
    public void NoteRecipient(string account, ReadOnlySpan<byte> recipient, DateTimeOffset time)
    {
        var profile = ProfileOf(account);
        lock (profile.Gate)
        {
            profile.Advance(time);
            profile.NoteRecipient(recipient, learn: Learns(profile));
            profile.Dirty = true;
        }
    }

    /// <summary>
    /// Notes and scores one message its enforcement point has accepted so far (the static limits had room), and says
    /// whether the account's behaviour holds it (probation) or suspends the account; null to let it go.
    /// </summary>
    public BehaviourFinding? Decide(in Submission submission)
    {
        if (string.IsNullOrEmpty(submission.Account))
        {
            return null;
        }

        var profile = ProfileOf(submission.Account);
        var now = submission.Time;
        lock (profile.Gate)
        {
            profile.Advance(now);
            profile.Dirty = true;
            ref var state = ref profile.State;
            if (state.Status == ProfileStatus.Suspended)
            {
                // The engine let the message through, so the suspension was lifted by an admin: the account starts afresh,
                // without the last hour that got it suspended.
                state.Status = ProfileStatus.Normal;
                state.Window = default;
                profile.LearnPending();
            }

            var scored = profile.HasHistory(Options);
            var recipients = submission.Recipients;
            if (recipients is not null)
            {
                for (var i = 0; i < recipients.Count; i++)
                {
                    profile.NoteRecipient(recipients[i], learn: false);
                }
            }

            profile.NoteMessage(submission, scored);
            if (!scored)
            {
                profile.Learn(submission);
                return null;
            }

            var score = profile.Score(now);
            var total = score.Total;
            state.LastScore = (float)total;
            if (state.Status == ProfileStatus.Normal)
            {
                if (total >= Options.SuspendAt)
                {
                    return Suspend(profile, score, now);
                }

                if (total < Options.ProbationAt)
                {
                    profile.Learn(submission);
                    return null;
                }

                state.Status = ProfileStatus.Probation;
                state.ProbationSince = now.ToUnixTimeSeconds();
                state.ProbationScore = (float)total;
                state.Held = 1;
                profile.ProbationReason = profile.Explain(score, now);
                _onProbation[profile.Account] = profile;
                return new BehaviourFinding(profile.Account, false, total, profile.ProbationReason, Started: true);
            }

            var since = DateTimeOffset.FromUnixTimeSeconds(state.ProbationSince);
            if (total >= Options.SuspendAt || (total >= Options.ProbationAt && now - since >= Options.EscalateTime))
            {
                return Suspend(profile, score, now);
            }

            state.Held++;
            state.ProbationScore = Math.Max(state.ProbationScore, (float)total);
            profile.ProbationReason ??= profile.Explain(score, now);

            // One finding for every message the probation holds after the first: a hold costs no allocation.
            return profile.HeldFinding ??= new BehaviourFinding(profile.Account, false, state.ProbationScore, profile.ProbationReason, Started: false);
        }
    }

    /// <summary>Learns one message without scoring it (`floodgate learn` seeding profiles from past logs).</summary>
    public void Learn(in Submission submission)
    {
        if (string.IsNullOrEmpty(submission.Account))
        {
            return;
        }

        var profile = ProfileOf(submission.Account);
        lock (profile.Gate)
        {
            profile.Advance(submission.Time);
            profile.Learn(submission);
            profile.Dirty = true;
        }
    }

    /// <summary>
    /// Ends every probation that is due by <paramref name="now"/>: its probation time has passed and its score is back
    /// under the threshold. It ends at the first 10-minute step from the later of the probation time's end and the
    /// account's last message at which that holds (a replay knows the clock only from messages). Each one ended is
    /// added to <paramref name="ended"/>: its held mail is to be released.
    /// </summary>
    public void EndDue(DateTimeOffset now, List<ProbationEnded> ended) => EndBy(now, ended);

    /// <summary>
    /// Ends every probation still open when a replayed log ends, at the time it would have ended by itself had the
    /// account sent nothing more (looked for over the next two days).
    /// </summary>
    public void EndAll(List<ProbationEnded> ended) => EndBy(null, ended);

    private void EndBy(DateTimeOffset? now, List<ProbationEnded> ended)
    {
        var step = TimeSpan.FromMinutes(ProfileState.SlotMinutes);
        foreach (var (account, profile) in _onProbation)
        {
            lock (profile.Gate)
            {
                if (profile.State.Status != ProfileStatus.Probation)
                {
                    _onProbation.TryRemove(account, out _);
                    continue;
                }

                var since = DateTimeOffset.FromUnixTimeSeconds(profile.State.ProbationSince);
                var last = DateTimeOffset.FromUnixTimeSeconds(profile.State.LastSeen);
                var until = now ?? last + TimeSpan.FromDays(2);
                for (var at = Max(since + Options.ProbationTime, last); at <= until; at += step)
                {
                    profile.Advance(at);
                    if (CanEnd(profile, at, out var score))
                    {
                        ended.Add(End(profile, at, score));
                        break;
                    }
                }
            }
        }
    }

    private bool CanEnd(AccountProfile profile, DateTimeOffset now, out BehaviourScore score)
    {
        score = profile.Score(now);
        return now - DateTimeOffset.FromUnixTimeSeconds(profile.State.ProbationSince) >= Options.ProbationTime && score.Total < Options.ProbationAt;
    }

    private ProbationEnded End(AccountProfile profile, DateTimeOffset now, in BehaviourScore score)
    {
        ref var state = ref profile.State;
        var since = DateTimeOffset.FromUnixTimeSeconds(state.ProbationSince);
        var ended = new ProbationEnded(profile.Account, now, since, state.Held,
            $"probation ended by itself: the score fell back to {score.Total:0.0} (under {Options.ProbationAt:0.#}) after {Elapsed(now - since)}; "
            + $"the {state.Held} messages it held are released");
        state.Status = ProfileStatus.Normal;
        state.Held = 0;
        state.ProbationSince = 0;
        profile.ProbationReason = null;
        profile.HeldFinding = null;
        profile.LearnPending();
        profile.Dirty = true;
        _onProbation.TryRemove(profile.Account, out _);
        return ended;
    }

    private BehaviourFinding Suspend(AccountProfile profile, in BehaviourScore score, DateTimeOffset now)
    {
        ref var state = ref profile.State;
        var wasOnProbation = state.Status == ProfileStatus.Probation;
        var reason = "behaviour: " + profile.Explain(score, now)
            + (wasOnProbation ? $"; on probation since {DateTimeOffset.FromUnixTimeSeconds(state.ProbationSince).UtcDateTime:u} with {state.Held} messages held" : "");
        state.Status = ProfileStatus.Suspended;
        state.ProbationSince = now.ToUnixTimeSeconds();
        profile.ProbationReason = null;
        profile.HeldFinding = null;
        _onProbation.TryRemove(profile.Account, out _);
        return new BehaviourFinding(profile.Account, true, score.Total, reason, Started: true);
    }

    // New recipients are learned at once only by an account in good standing; else they wait for the probation's end.
    private bool Learns(AccountProfile profile) =>
        profile.State.Status == ProfileStatus.Normal && (!profile.HasHistory(Options) || profile.State.LastScore < Options.ProbationAt);

    private AccountProfile ProfileOf(string account)
    {
        if (_profiles.TryGetValue(account, out var profile))
        {
            return profile;
        }

        profile = _profiles.GetOrAdd(account, static a => new AccountProfile(a));
        if (_profiles.Count > Options.MaxAccounts)
        {
            Evict();
        }

        return profile;
    }

    // Over the bound: the 1/64 of profiles seen least recently are forgotten (never one on probation).
    private void Evict()
    {
        lock (_evicting)
        {
            if (_profiles.Count <= Options.MaxAccounts)
            {
                return;
            }

            var victims = _profiles.Values.Where(p => !p.OnProbation).OrderBy(p => p.State.LastSeen).Take(Math.Max(1, _profiles.Count / 64)).ToList();
            foreach (var victim in victims)
            {
                _profiles.TryRemove(victim.Account, out _);
            }
        }
    }

    private static string Elapsed(TimeSpan t) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:00}m");

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
