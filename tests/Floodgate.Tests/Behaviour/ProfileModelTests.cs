using CsCheck;
using Floodgate.Behaviour;
using Floodgate.Engine;

namespace Floodgate.Tests.Behaviour;

/// <summary>The profile and its score against a reference computed the plain way: exact weights, exact sets, every message kept.</summary>
public class ProfileModelTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    // The reference quantile: every observation's weight decay^(age), the first log2 bucket whose running sum reaches q.
    private static long ReferenceQuantile(List<long> values, double decay, double q)
    {
        var weights = new double[ProfileState.Buckets];
        for (var i = 0; i < values.Count; i++)
        {
            var bucket = values[i] <= 1 ? 0 : Math.Min(ProfileState.Buckets - 1, (int)Math.Floor(Math.Log2(values[i])));
            weights[bucket] += Math.Pow(decay, values.Count - 1 - i);
        }

        var total = weights.Sum();
        double sum = 0;
        for (var b = 0; b < weights.Length; b++)
        {
            sum += weights[b];
            if (sum >= q * total)
            {
                return (2L << b) - 1;
            }
        }

        return (2L << (ProfileState.Buckets - 1)) - 1;
    }

    [Fact]
    public void Histogram_Quantile_MatchesTheExactlyWeightedReference()
    {
        Gen.Select(Gen.Long[1, 70_000].List[1, 300], Gen.Int[0, 2].Select(i => new[] { 0.95, 0.98, 0.99 }[i]), Gen.Int[0, 2].Select(i => new[] { 0.5, 0.9, 0.95 }[i])).Sample((values, decay, q) =>
        {
            var histogram = default(ProfileState.Histogram);
            foreach (var v in values)
            {
                AccountProfile.Observe(ref histogram, v, decay);
            }

            var actual = AccountProfile.Quantile(histogram, q);

            // Floats against doubles: exact except where the running sum lands on q itself, so q is bracketed.
            var low = ReferenceQuantile(values, decay, q - 1e-4);
            var high = ReferenceQuantile(values, decay, q + 1e-4);
            return actual >= low && actual <= high;
        }, iter: 500);
    }

    [Fact]
    public void Window_CountsExactlyTheMessagesOfTheLastHour()
    {
        Gen.Select(Gen.Int[0, 25], Gen.Int[1, 40]).List[1, 200].Sample(steps =>
        {
            var profile = new AccountProfile("a@example.com");
            var sent = new List<(DateTimeOffset At, int Recipients)>();
            var at = Start;
            foreach (var (minutes, recipients) in steps)
            {
                at = at.AddMinutes(minutes);
                profile.Advance(at);
                profile.NoteMessage(new Submission("a@example.com", "a@example.com", recipients, 100, "192.0.2.1", at), scored: false);
                sent.Add((at, recipients));
            }

            // The window holds the current 10-minute slot and the five before it.
            var oldest = ((at.ToUnixTimeSeconds() / 600) - 5) * 600;
            var kept = sent.Where(s => s.At.ToUnixTimeSeconds() >= oldest).ToList();
            profile.WindowTotals(out var messages, out var rcpts, out _, out _, out _, out _, out _, out _, out _, out _, out _, out _);
            return messages == kept.Count && rcpts == kept.Sum(s => s.Recipients);
        }, iter: 400);
    }

    [Fact]
    public void KnownRecipients_AreNeverCountedAsNew_AndNewOnesAtMostAsOftenAsTheyAre()
    {
        Gen.Select(Gen.Int[1, 199], Gen.Int[1, 120]).Sample((learned, probed) =>
        {
            var profile = new AccountProfile("a@example.com");
            profile.Advance(Start);
            var known = Enumerable.Range(0, learned).Select(i => $"k{i}@known{i}.example").ToArray();
            profile.Learn(new Submission("a@example.com", "a@example.com", known.Length, 100, "192.0.2.1", Start) { Recipients = known });

            // Every learned domain and address is known: a Bloom filter has no false negatives, and 199 fit in two generations.
            foreach (var address in known)
            {
                profile.NoteRecipient(address, learn: false);
            }

            profile.WindowTotals(out _, out _, out var newDomainRecipients, out _, out var newAddressRecipients, out _, out _, out _, out _, out _, out _, out _);
            if (newDomainRecipients != 0 || newAddressRecipients != 0)
            {
                return false;
            }

            // Never-seen ones: each counted as new unless the filter mistakes it (rare), never more than once as a distinct domain.
            for (var i = 0; i < probed; i++)
            {
                profile.NoteRecipient($"n{i}@new{i}.example", learn: false);
                profile.NoteRecipient($"again{i}@new{i}.example", learn: false);
            }

            profile.WindowTotals(out _, out _, out newDomainRecipients, out var newDomains, out _, out _, out _, out _, out _, out _, out _, out _);
            return newDomains <= probed && newDomains >= (probed * 0.85) - 1 && newDomainRecipients <= 2 * probed && newDomainRecipients >= 2 * newDomains;
        }, iter: 200);
    }

    [Fact]
    public void Score_IsTheSumOfTheDocumentedCappedPoints()
    {
        var gen = Gen.Select(Gen.Int[0, 40].List[5, 40], Gen.Select(Gen.Int[0, 600], Gen.Int[1, 30], Gen.Bool, Gen.Bool).List[1, 60]);
        gen.Sample((history, burst) =>
        {
            var profile = new AccountProfile("a@example.com");
            var day = Start;
            foreach (var perDay in history)
            {
                for (var i = 0; i < perDay; i++)
                {
                    var at = day.AddMinutes(i * 7);
                    profile.Advance(at);
                    profile.Learn(new Submission("a@example.com", "a@example.com", 1 + (i % 3), 100, "198.51.100.7", at) { Recipients = [$"c{i % 9}@p{i % 4}.example"] });
                }

                day = day.AddDays(1);
            }

            var now = day;
            var n = 0;
            foreach (var (seconds, recipients, newNetwork, otherSender) in burst)
            {
                now = now.AddSeconds(seconds);
                profile.Advance(now);
                var list = Enumerable.Range(0, recipients).Select(r => $"x{n}-{r}@d{n}-{r % 3}.example").ToList();
                foreach (var r in list)
                {
                    profile.NoteRecipient(r, learn: false);
                }

                profile.NoteMessage(new Submission("a@example.com", otherSender ? "someone@else.example" : "a@example.com", recipients, 100,
                    newNetwork ? "203.0.113.9" : "198.51.100.7", now), scored: true);
                n++;
            }

            profile.WindowTotals(out var messages, out var rcpts, out var ndr, out var nd, out var nar, out var na, out var nnm, out var odd, out var mismatches,
                out _, out _, out var rp);
            var state = profile.State;
            var volume = BehaviourScore.VolumePoints(Math.Max(messages / (double)Math.Max(3, AccountProfile.Quantile(state.HourVolume, 0.95)),
                profile.RollingDay(now) / Math.Max(10, AccountProfile.Quantile(state.DayVolume, 0.95))));
            var expected = volume
                + Math.Min(6, Math.Min(1, ndr / (double)rcpts) * Math.Min(nd, 8) * 0.75)
                + Math.Min(2, Math.Min(1, nar / (double)rcpts) * Math.Min(na, 16) * 0.125)
                + (nnm == 0 ? 0 : Math.Min(6, 3 + (0.5 * (nnm - 1))))
                + (odd > 0 ? 2 : 0)
                + rp
                + (mismatches > 0 ? 2 : 0);
            var score = profile.Score(now);
            return Math.Abs(score.Total - expected) < 1e-9 && score.Total <= 32 && (mismatches > 0) == burst.Any(b => b.Item4);
        }, iter: 200);
    }
}
