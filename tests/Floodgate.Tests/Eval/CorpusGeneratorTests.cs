using System.Security.Cryptography;
using Floodgate.Eval;
using Floodgate.Eval.Corpus;
using Floodgate.Logs;

namespace Floodgate.Tests.Eval;

/// <summary>The corpus generator: the same seed gives the same files, and Floodgate's Postfix reader reads back every message.</summary>
public class CorpusGeneratorTests
{
    private static readonly CorpusOptions Small = new() { Accounts = 40, Days = 7, Seed = 3 };

    private static (string Log, string Labels) Hashes(CorpusOptions options)
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-corpus-").FullName;
        try
        {
            EvalCommands.Write(options, folder);
            return (Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "maillog")))),
                Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "labels.json")))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Generate_SameSeed_WritesTheSameMaillogAndLabels_AnotherSeedOthers()
    {
        var first = Hashes(Small);
        Assert.Equal(first, Hashes(Small));
        var other = Hashes(Small with { Seed = 4 });
        Assert.NotEqual(first.Log, other.Log);
        Assert.NotEqual(first.Labels, other.Labels);
    }

    [Fact]
    public void Generate_Maillog_ReadsBackThroughPostfixLogReader_EveryMessageWithItsLoginRecipientsAndOutcomes()
    {
        var corpus = CorpusGenerator.Generate(Small);
        using var log = new StringWriter();
        MaillogWriter.Write(corpus, log);
        var reader = new PostfixLogReader(2026);
        var read = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).SelectMany(reader.Read).Concat(reader.Finish()).ToList();

        Assert.Equal(corpus.Messages.Count, read.Count);
        Assert.Equal(corpus.Messages.Select(m => m.QueueId), read.Select(m => m.QueueId));
        foreach (var (made, parsed) in corpus.Messages.Zip(read))
        {
            var login = corpus.Accounts[made.Account].Login;
            Assert.Equal(login, parsed.Login);
            Assert.Equal(login, parsed.Sender);
            Assert.Equal(made.ClientAddress, parsed.ClientAddress);
            Assert.Equal(made.Size, parsed.Size);
            Assert.Equal(made.Recipients.Length, parsed.RecipientCount);
            Assert.Equal(made.Time, parsed.Time);
            Assert.False(parsed.IsInbound);
            Assert.Equal(made.Recipients.Select(r => r.Address), parsed.Recipients.Select(r => r.Address));
            foreach (var (recipient, outcome) in made.Recipients.Zip(parsed.Recipients))
            {
                Assert.Equal(recipient.Bounced ? ("bounced", "5.1.1") : ("sent", "2.0.0"), (outcome.Status, outcome.Code));
                Assert.Equal(recipient.Internal ? "lmtp" : "smtp", outcome.Agent);
            }

            var submission = parsed.ToSubmission();
            Assert.Equal(made.Recipients.Length, submission.RecipientCount);
        }

        // What the reader skipped is, per message with a bounce, the bounce daemon's notice and the cleanup, qmgr and
        // lmtp lines of its report to the sender, which no smtpd submitted (the report's "removed" is taken and dropped).
        Assert.Equal(corpus.Messages.Count, reader.Stats.Messages);
        Assert.Equal(corpus.Messages.Count(m => m.Recipients.Any(r => r.Bounced)) * 4, reader.Stats.Skipped);
    }

    [Fact]
    public void Generate_EveryArchetype_HasItsAccounts_AndEveryHijackStartsAtItsLabelledTimeInWeekThree()
    {
        var options = new CorpusOptions { Accounts = 200, Days = 21, Seed = 1 };
        var corpus = CorpusGenerator.Generate(options);
        var labels = CorpusLabels.From(corpus);
        foreach (var archetype in Archetypes.Legitimate.Concat(Archetypes.Hijacks))
        {
            Assert.Contains(labels.Accounts, a => a.Archetype == Archetypes.Name(archetype));
        }

        Assert.Equal(2, labels.Accounts.Count(a => a.Archetype == "slow_drip"));
        Assert.Equal(options.Accounts, labels.Accounts.Select(a => a.Account).Distinct().Count());
        var week3 = new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);
        foreach (var account in corpus.Accounts)
        {
            var index = corpus.Accounts.ToList().IndexOf(account);
            var spam = corpus.Messages.Where(m => m.Account == index && m.Spam).ToList();
            if (account.Hijack is null)
            {
                Assert.Empty(spam);
                continue;
            }

            Assert.InRange(account.HijackStart!.Value, week3, week3.AddDays(7));
            Assert.Equal(account.HijackStart, spam[0].Time);
            Assert.Equal((int)(account.HijackStart.Value - week3).TotalDays + 14, account.LegitimateDays(options));
        }
    }

    [Fact]
    public void Generate_Hijacks_HaveTheShapeTheirNamesSay()
    {
        var corpus = CorpusGenerator.Generate(new CorpusOptions { Accounts = 100, Days = 21, Seed = 2 });
        List<GeneratedMessage> Spam(Archetype a) => [.. corpus.Messages.Where(m => m.Spam && corpus.Accounts[m.Account].Hijack == a)];
        int MostIn(List<GeneratedMessage> messages, TimeSpan window, Func<GeneratedMessage, int> units)
        {
            var most = 0;
            var from = 0;
            var sum = 0;
            for (var i = 0; i < messages.Count; i++)
            {
                sum += units(messages[i]);
                while (messages[i].Time - messages[from].Time >= window)
                {
                    sum -= units(messages[from++]);
                }

                most = Math.Max(most, sum);
            }

            return most;
        }

        // The blast: thousands an hour; the drip: under every default limit (60 a minute, 500 an hour, 2,000 a day).
        Assert.True(MostIn(Spam(Archetype.OvernightBlast), TimeSpan.FromHours(1), _ => 1) > 2_000);
        var drip = Spam(Archetype.SlowDrip);
        Assert.InRange(MostIn(drip, TimeSpan.FromHours(1), m => m.Recipients.Length), 60, 100);
        Assert.True(MostIn(drip, TimeSpan.FromDays(1), m => m.Recipients.Length) < 1_950);
        Assert.True(drip.Select(m => m.ClientAddress[..m.ClientAddress.LastIndexOf('.')]).Distinct().Count() > drip.Count / 2, "a rotating botnet: most messages from a /24 of their own");

        // Malware on the user's own PC sends from the address the user always sends from.
        foreach (var group in Spam(Archetype.MalwareOwnPc).GroupBy(m => m.Account))
        {
            var usual = corpus.Messages.Where(m => m.Account == group.Key && !m.Spam).GroupBy(m => m.ClientAddress).MaxBy(g => g.Count())!.Key;
            Assert.All(group, m => Assert.Equal(usual, m.ClientAddress));
        }

        Assert.All(Spam(Archetype.LowAndSlowBcc), m => Assert.InRange(m.Recipients.Length, 40, 60));
        Assert.Equal(500, Assert.Single(Spam(Archetype.OneMessage500)).Recipients.Length);

        // Harvested lists bounce a third of the time (5.1.1); lateral phishing goes to real contacts.
        var harvested = Spam(Archetype.OvernightBlast).SelectMany(m => m.Recipients).ToList();
        Assert.InRange(harvested.Count(r => r.Bounced) / (double)harvested.Count, 0.30, 0.40);
        Assert.DoesNotContain(Spam(Archetype.LateralPhishing).SelectMany(m => m.Recipients), r => r.Bounced);
    }

    [Theory]
    [InlineData("--accounts 5", "generate: --accounts must be 30 to 20000 (every archetype needs its accounts): 5")]
    [InlineData("--days 3", "generate: --days must be 7 to 120 (the hijacks start after a week of history): 3")]
    [InlineData("--start 2026-11-04", "generate: --start must be a Monday: 2026-11-04 is a Wednesday")]
    [InlineData("--start tomorrow", "generate: --start tomorrow is not a date (yyyy-MM-dd)")]
    public async Task GenerateCommand_RefusesOptionsNoCorpusCanBeMadeFrom(string options, string expected)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"floodgate-corpus-refused-{Guid.NewGuid():N}");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await EvalCommands.Build().Parse(["generate", "--out", folder, .. options.Split(' ')])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        Assert.Equal(2, exit);
        Assert.Equal(expected, error.ToString().Trim());
        Assert.False(Directory.Exists(folder));
    }
}
