using Floodgate.Eval;
using Floodgate.Eval.Corpus;
using Floodgate.Eval.Scoring;

namespace Floodgate.Tests.Eval;

/// <summary>The scorer on a hand-made corpus and a hand-written replay output, every figure worked out by hand.</summary>
public class ScorerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset Hijack = T0.AddDays(5);

    private static readonly CorpusLabels Labels = new()
    {
        Days = 10,
        Seed = 0,
        Accounts =
        [
            new("alice@example.com", "office_worker", "office_worker", null, 10),
            new("news@example.com", "newsletter", "newsletter", null, 10),
            new("blast@example.com", "overnight_blast", "office_worker", Hijack, 5),
            new("drip@example.com", "slow_drip", "office_worker", Hijack, 5),
            new("probe@example.com", "malware_own_pc", "office_worker", Hijack, 5),
            new("held@example.com", "lateral_phishing", "office_worker", Hijack, 5),
            new("early@example.com", "hijacked_newsletter", "newsletter", Hijack.AddDays(1), 6),
        ],
        Messages =
        [
            M("A1", "alice", T0.AddDays(1).AddHours(9), false),
            M("A2", "alice", T0.AddDays(1).AddHours(9).AddMinutes(1), false),
            M("A3", "alice", T0.AddDays(1).AddHours(9).AddMinutes(2), false),
            M("A4", "alice", T0.AddDays(1).AddHours(9).AddMinutes(30), false),
            M("N1", "news", T0.AddDays(2).AddHours(10), false),
            M("N2", "news", T0.AddDays(2).AddHours(10).AddMinutes(1), false),
            M("N3", "news", T0.AddDays(2).AddHours(10).AddMinutes(2), false),
            M("E1", "early", T0.AddDays(1), false),
            M("B0", "blast", T0.AddDays(4), false),
            M("B1", "blast", Hijack, true, 3),
            M("B2", "blast", Hijack.AddSeconds(1), true, 3),
            M("B3", "blast", Hijack.AddMinutes(9), true, 3),
            M("B4", "blast", Hijack.AddMinutes(10), true, 3),
            M("B5", "blast", Hijack.AddMinutes(11), true, 3),
            M("B6", "blast", Hijack.AddMinutes(12), false),
            M("D1", "drip", Hijack, true),
            M("D2", "drip", Hijack.AddMinutes(1), true),
            M("D3", "drip", Hijack.AddMinutes(2), true),
            M("P1", "probe", Hijack, true),
            M("P2", "probe", Hijack.AddMinutes(1), true),
            M("H1", "held", Hijack, true),
            M("H2", "held", Hijack.AddMinutes(1), true),
            M("E2", "early", Hijack.AddDays(1), true),
        ],
    };

    private static LabelledMessage M(string id, string user, DateTimeOffset at, bool spam, int recipients = 1) => new(id, $"{user}@example.com", at, recipients, spam);

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string Held(string id, string user, DateTimeOffset at, string verdict, string cause, string? rule) =>
        $$"""{"time":"{{Stamp(at)}}","account":"{{user}}@example.com","queue_id":"{{id}}","verdict":"{{verdict}}","cause":"{{cause}}"{{(rule is null ? "" : $",\"rule\":\"{rule}\"")}}}""";

    private static string Event(string user, DateTimeOffset at, string name, string cause = "c") =>
        $$"""{"time":"{{Stamp(at)}}","account":"{{user}}@example.com","event":"{{name}}","cause":"{{cause}}"}""";

    private static Scorecard Score(params string[] lines) =>
        Scorer.Score(Labels, ReplayOutput.Read(new StringReader(string.Join('\n', lines)), "replay.jsonl"), "hand-made", "replay.jsonl");

    private static readonly string[] Output =
    [
        // alice: probation holds two messages and ends by itself ten minutes later; a third hold is still there at the end.
        Event("alice", T0.AddDays(1).AddHours(9), "probation", "probation: 12 messages in 1 minute, usually 1"),
        Held("A1", "alice", T0.AddDays(1).AddHours(9), "hold", "probation: new network", "behaviour"),
        Held("A2", "alice", T0.AddDays(1).AddHours(9).AddMinutes(1), "hold", "probation: new network", "behaviour"),
        Event("alice", T0.AddDays(1).AddHours(9).AddMinutes(10), "probation_ended"),
        Held("A4", "alice", T0.AddDays(1).AddHours(9).AddMinutes(30), "hold", "probation: again", "behaviour"),

        // early (a newsletter hijacked later): suspended by its own newsletter first; its spam is held by that suspension.
        Held("E1", "early", T0.AddDays(1), "hold", "account:early@example.com has sent 500 of 500 recipients (rule hourly)", "hourly"),
        Event("early", T0.AddDays(1), "suspended", "over limit hourly"),

        // news: the newsletter trips the hourly limit, and the rest of its issue is held by the suspension.
        Held("N2", "news", T0.AddDays(2).AddHours(10).AddMinutes(1), "hold", "account:news@example.com has sent 500 of 500 (rule hourly)", "hourly"),
        Event("news", T0.AddDays(2).AddHours(10).AddMinutes(1), "suspended", "over limit hourly"),
        Held("N3", "news", T0.AddDays(2).AddHours(10).AddMinutes(2), "hold", "suspended: over limit hourly", null),

        // blast: two spam messages delivered, then the hourly limit suspends it; its own later message is held with it.
        Held("B3", "blast", Hijack.AddMinutes(9), "hold", "account:blast@example.com (rule hourly)", "hourly"),
        Event("blast", Hijack.AddMinutes(9), "suspended", "over limit hourly"),
        Held("B4", "blast", Hijack.AddMinutes(10), "hold", "suspended: over limit hourly", null),
        Held("B5", "blast", Hijack.AddMinutes(11), "hold", "suspended: over limit hourly", null),
        Held("B6", "blast", Hijack.AddMinutes(12), "hold", "suspended: over limit hourly", null),

        // probe: its spam is held by probation, which then ends: delivered. held: the same, but suspended first: not delivered.
        Held("P1", "probe", Hijack, "hold", "probation: 40% bounced", "behaviour"),
        Held("P2", "probe", Hijack.AddMinutes(1), "hold", "probation: 40% bounced", "behaviour"),
        Event("probe", Hijack.AddMinutes(30), "probation_ended"),
        Held("H1", "held", Hijack, "hold", "probation: new network", "behaviour"),
        Held("H2", "held", Hijack.AddMinutes(1), "hold", "probation: new network", "behaviour"),
        Event("held", Hijack.AddMinutes(2), "suspended", "score 9.1 over 8"),
        Event("held", Hijack.AddMinutes(3), "probation_ended"),
        Held("E2", "early", Hijack.AddDays(1), "hold", "suspended: over limit hourly", null),
        Event("drip", Hijack.AddMinutes(3), "score_changed"),
    ];

    [Fact]
    public void Score_Hijacks_CountSpamDelivered_AcceptedOrReleasedFromProbation_AndWhenContained()
    {
        var card = Score(Output);
        var byAccount = card.Hijacks.ToDictionary(h => h.Account[..h.Account.IndexOf('@', StringComparison.Ordinal)]);

        Assert.Equal((5, 15, 2, 6, true, false), Shape(byAccount["blast"]));
        Assert.Equal(Hijack.AddMinutes(9), byAccount["blast"].SuspendedAt);
        Assert.Equal((3, 3, 3, 3, false, false), Shape(byAccount["drip"]));
        Assert.Equal((2, 2, 2, 2, false, false), Shape(byAccount["probe"]));
        Assert.Equal((2, 2, 0, 0, true, false), Shape(byAccount["held"]));
        Assert.Equal((1, 1, 0, 0, true, true), Shape(byAccount["early"]));

        Assert.Equal(2, card.MedianDelivered(Archetype.OvernightBlast));
        Assert.Equal(3, card.MaxDelivered(Archetype.SlowDrip));
        Assert.Equal(1, card.UnknownEvents);

        static (int, int, int, int, bool, bool) Shape(HijackOutcome h) =>
            (h.SpamSent, h.SpamRecipients, h.SpamDelivered, h.SpamRecipientsDelivered, h.Contained, h.SuspendedBeforeStart);
    }

    [Fact]
    public void Score_LegitimateMail_FalseSuspensionsPerAccountDays_RefusedHeldAndProbationWaits()
    {
        var card = Score(Output);

        // news, and early before its hijack; blast's and held's suspensions came after their hijacks started.
        Assert.Equal(["news@example.com", "early@example.com"], card.FalseSuspensions.Select(s => s.Account).Order().Reverse());
        Assert.Equal(46, card.AccountDays);
        Assert.Equal(2 * 10_000 / 46.0, card.FalseSuspensionsPerUnit, 6);

        // alice's four and blast's one before its hijack (B6, after it, is contained with the hijack and not counted).
        var office = card.Pattern(Archetype.OfficeWorker);
        Assert.Equal((5, 5, 30, 0, 0, 0, 3, 1), (office.Accounts, office.Messages, office.AccountDays, office.Suspensions, office.RefusedByLimit, office.HeldBySuspension, office.OnProbation, office.ProbationNeverReleased));
        Assert.Equal([TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(9)], office.ProbationWaits);

        var news = card.Pattern(Archetype.Newsletter);
        Assert.Equal((2, 4, 16, 2, 2, 1, 0), (news.Accounts, news.Messages, news.AccountDays, news.Suspensions, news.RefusedByLimit, news.HeldBySuspension, news.OnProbation));
    }

    [Fact]
    public void Score_NoReplayLines_EverythingDelivered_NothingContained()
    {
        var card = Score();
        Assert.All(card.Hijacks, h => Assert.Equal(h.SpamSent, h.SpamDelivered));
        Assert.DoesNotContain(card.Hijacks, h => h.Contained);
        Assert.Empty(card.FalseSuspensions);
        Assert.Equal(0, card.Legitimate.Sum(l => l.RefusedByLimit + l.HeldBySuspension + l.OnProbation));
    }

    [Fact]
    public void Targets_NameWhatIsMissed_AndAreMetOnlyWhenEveryHijackIsContainedEarly()
    {
        var missed = Targets.Missed(Score(Output));
        Assert.Contains("slow_drip (0 of 1 contained, 3 / 3 delivered)", missed);
        Assert.Contains("malware_own_pc (0 of 1 contained, 2 / 2 delivered)", missed);
        Assert.Contains("hijacked_newsletter (0 of 1 contained, 0 / 0 delivered)", missed);
        Assert.Contains("low_and_slow_bcc: no account of it in the corpus", missed);
        Assert.Contains("false suspensions (434.8 per 10,000 account-days)", missed);
        Assert.DoesNotContain(missed, m => m.StartsWith("overnight_blast", StringComparison.Ordinal) || m.StartsWith("lateral_phishing", StringComparison.Ordinal));
    }

    [Fact]
    public void ScoreTable_ShowsTwoConfigurationsSideBySide()
    {
        var table = ScoreTable.Render(Labels, [Score(Output), Score()]);
        Assert.Contains("| overnight_blast | 1 | 5 | 1 of 1 (after 9 min) | 2 / 2 | 6 | 0 of 1 | 5 / 5 | 15 |", table);
        Assert.Contains("| hijacked_newsletter | 1 | 1 | 1 of 1, 1 suspended before it started | 0 / 0 | 0 | 0 of 1 | 1 / 1 | 1 |", table);
        Assert.Contains("| false suspensions | 2 (434.8 per 10,000 account-days) | 0 (0 per 10,000 account-days) |", table);
        Assert.Contains("| released from probation: waited median / max | 10 min / 10 min | - |", table);
    }

    [Theory]
    [InlineData("not json", "replay.jsonl:1: not JSON")]
    [InlineData("[1,2]", "replay.jsonl:1: not a JSON object")]
    [InlineData("""{"time":"yesterday","account":"alice@example.com","event":"suspended"}""", "replay.jsonl:1: time yesterday is not a time")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":7,"event":"suspended"}""", "replay.jsonl:1: account is not a string")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":"alice@example.com","queue_id":"A1","cause":"c"}""", "replay.jsonl:1: no verdict")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":"alice@example.com","queue_id":"A1","verdict":"accept","cause":"c"}""", "replay.jsonl:1: verdict accept is not defer, hold or reject")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":"mallory@example.com","event":"suspended"}""", "replay.jsonl:1: account mallory@example.com is not in the labels")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":"alice@example.com","queue_id":"ZZ","verdict":"hold","cause":"c"}""", "replay.jsonl:1: queue id ZZ is not in the labels")]
    [InlineData("""{"time":"2026-11-03T09:00:00Z","account":"news@example.com","queue_id":"A1","verdict":"hold","cause":"c"}""", "replay.jsonl:1: queue id A1 is alice@example.com's in the labels, not news@example.com's")]
    public void Score_RejectsOutputThatBreaksTheContract_NamingTheLine(string line, string expected)
    {
        // The JSON parser's own reason may follow.
        var error = Assert.Throws<EvalInputException>(() => Score(line));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_RejectsAQueueIdDecidedTwice_AndAnOverlongLine()
    {
        var once = Held("A1", "alice", T0.AddDays(1).AddHours(9), "defer", "c", "burst");
        Assert.Equal("replay.jsonl:3: queue id A1 is decided twice", Assert.Throws<EvalInputException>(() => Score(once, "", once)).Message);
        var huge = $$"""{"time":"2026-11-03T09:00:00Z","account":"alice@example.com","event":"x","cause":"{{new string('a', ReplayOutput.MaxLineChars)}}"}""";
        Assert.Equal($"replay.jsonl:1: longer than {ReplayOutput.MaxLineChars} characters", Assert.Throws<EvalInputException>(() => Score(huge)).Message);
    }

    [Fact]
    public void Labels_RoundTripThroughTheFile_AndABrokenOneIsRefused()
    {
        var corpus = CorpusGenerator.Generate(new CorpusOptions { Accounts = 30, Days = 7 });
        var labels = CorpusLabels.From(corpus);
        var path = Path.Combine(Directory.CreateTempSubdirectory("floodgate-labels-").FullName, "labels.json");
        try
        {
            using (var file = File.Create(path))
            {
                labels.Write(file);
            }

            var read = CorpusLabels.Read(path);
            Assert.Equal(labels.Accounts, read.Accounts);
            Assert.Equal(labels.Messages, read.Messages);
            Assert.Equal(corpus.Messages.Count(m => m.Spam), read.Messages.Count(m => m.Spam));

            File.WriteAllText(path, File.ReadAllText(path).Replace("\"slow_drip\"", "\"slow_dribble\"", StringComparison.Ordinal));
            Assert.Contains("unknown archetype slow_dribble", Assert.Throws<EvalInputException>(() => CorpusLabels.Read(path)).Message, StringComparison.Ordinal);
            File.WriteAllText(path, "{\"format\":\"something else\",\"accounts\":[],\"messages\":[]}");
            Assert.Contains("not a labels file of format floodgate-eval-labels/1 (found something else)", Assert.Throws<EvalInputException>(() => CorpusLabels.Read(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
