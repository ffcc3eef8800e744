using Floodgate.Eval;
using Floodgate.Eval.Corpus;
using Floodgate.Eval.Scoring;

namespace Floodgate.Tests.Eval;

/// <summary>
/// A small corpus (40 accounts, one week) through the real `floodgate replay --json`, scored. With the default static
/// limits it asserts what static limits do; a behaviour configuration is scored the same way by
/// <see cref="ScoreSmallCorpusAsync"/>, and its test asserts <see cref="Targets.Missed"/> is empty.
/// </summary>
[Collection(SerialGroup.Name)]
public class CorpusRunTests
{
    public static readonly CorpusOptions SmallCorpus = new() { Accounts = 40, Days = 7, Seed = 1 };

    /// <summary>Generates the small corpus and scores `floodgate replay --json` over it with <paramref name="config"/> (null: the embedded default).</summary>
    public static async Task<Scorecard> ScoreSmallCorpusAsync(string? config)
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-corpus-run-").FullName;
        try
        {
            EvalCommands.Write(SmallCorpus, folder);
            var labels = CorpusLabels.Read(Path.Combine(folder, "labels.json"));
            return await EvalCommands.ScoreAsync(labels, Path.Combine(folder, "maillog"), config);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task SmallCorpus_DefaultStaticLimits_StopTheBlastAndBcc_MissTheDripMalwareAndPhishing_SuspendTheNewsletter()
    {
        // The embedded default's static limits alone (a configuration without a behaviour: section leaves it off).
        var config = Path.Combine(Directory.CreateTempSubdirectory("floodgate-static-").FullName, "static.yml");
        await File.WriteAllTextAsync(config, """
            listen: { policy: [], admin: "127.0.0.1:0", relay: [] }
            limits:
              - { name: burst,  scope: account, unit: recipients, max: 60,   per: 1m,  action: defer }
              - { name: hourly, scope: account, unit: recipients, max: 500,  per: 1h,  action: suspend }
              - { name: daily,  scope: account, unit: recipients, max: 2000, per: 24h, action: suspend }
              - { name: external_hourly, scope: account, unit: external_recipients, max: 500, per: 1h, action: suspend }
            """);
        var card = await ScoreSmallCorpusAsync(config);
        HijackOutcome Only(Archetype a) => Assert.Single(card.Of(a));

        // The blast trips the hourly limit (500 recipients) within its first hour: a few hundred messages got out.
        var blast = Only(Archetype.OvernightBlast);
        Assert.True(blast.Contained);
        Assert.InRange(blast.SuspendedAt!.Value - blast.Start, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.InRange(blast.SpamRecipientsDelivered, 400, 500);
        Assert.True(blast.SpamSent > 10 * blast.SpamDelivered);

        // Forty to sixty bcc recipients every twenty minutes: the daily limit (2,000) stops it, after 2,000 spam recipients or so.
        var bcc = Only(Archetype.LowAndSlowBcc);
        Assert.True(bcc.Contained && !bcc.SuspendedBeforeStart);
        Assert.InRange(bcc.SpamRecipientsDelivered, 1_900, 2_000);

        // Under every static limit: never stopped, every message delivered.
        foreach (var missed in new[] { Archetype.SlowDrip, Archetype.MalwareOwnPc, Archetype.LateralPhishing })
        {
            var h = Only(missed);
            Assert.False(h.Contained, $"{Archetypes.Name(missed)} was contained by static limits");
            Assert.Equal(h.SpamSent, h.SpamDelivered);
        }

        Assert.True(Only(Archetype.SlowDrip).SpamSent > 1_000);

        // The weekly newsletter trips the hourly limit on its first issue, so the hijacked one is held before its hijack.
        var newsletter = Assert.Single(card.FalseSuspensions, s => s.Account == "newsletter@example.com");
        Assert.Contains("over limit hourly", newsletter.Cause, StringComparison.Ordinal);
        Assert.True(Only(Archetype.HijackedNewsletter).SuspendedBeforeStart);

        // Office workers are never touched by the default limits.
        var office = card.Pattern(Archetype.OfficeWorker);
        Assert.True(office.Messages > 1_000);
        Assert.Equal((0, 0, 0), (office.Suspensions, office.RefusedByLimit, office.HeldBySuspension));

        // Which is why the targets are out of reach of static limits.
        Assert.Contains(Targets.Missed(card), m => m.StartsWith("slow_drip (0 of 1 contained", StringComparison.Ordinal));
    }
}
