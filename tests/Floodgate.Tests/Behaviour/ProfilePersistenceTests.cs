using Floodgate.Behaviour;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Behaviour;

/// <summary>Profiles survive a restart in the embedded store, and `floodgate learn` seeds them from past logs.</summary>
public class ProfilePersistenceTests
{
    private const string Alice = "alice@example.com";

    private static List<BehaviourFinding?> Hijack(BehaviourWatch watch) =>
        [.. OfficeMail.Blast(Alice, BehaviourWatchTests.TestDay.AddHours(12), 60, TimeSpan.FromSeconds(20), recipients: 2).Select(m => watch.Decide(m.ToSubmission()))];

    [Fact]
    public void Profiles_SurviveARestart_InTheEmbeddedStore()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-profiles-").FullName;
        using (var database = FloodgateDatabase.Open(folder))
        {
            Assert.Equal(1, BehaviourWatchTests.Seeded().SaveTo(new SqliteProfiles(database)));
        }

        var restarted = new BehaviourWatch(new BehaviourOptions());
        using (var database = FloodgateDatabase.Open(folder))
        {
            Assert.Equal(1, restarted.Load(new SqliteProfiles(database).LoadAll()));
        }

        var profile = restarted.Find(Alice)!;
        Assert.True(profile.HasHistory(restarted.Options));
        var expected = Hijack(BehaviourWatchTests.Seeded());
        var actual = Hijack(restarted);
        Assert.Equal(expected.Select(f => (f?.Suspends, f?.Reason)), actual.Select(f => (f?.Suspends, f?.Reason)));
        Assert.Contains(actual, f => f is not null);
    }

    [Fact]
    public void Profile_CostsTheBytesTheReadmeStates()
    {
        // README "Knowing each account": 1,968 bytes of state per account, saved as they are.
        Assert.Equal(1968, ProfileState.Size);
        Assert.Equal(1968, BehaviourWatchTests.Seeded().Find(Alice)!.ToBytes().Length);
    }

    [Fact]
    public void SavedProfile_OfAnotherLayout_IsLearnedAfresh()
    {
        var bytes = BehaviourWatchTests.Seeded().Find(Alice)!.ToBytes();
        Assert.Equal(ProfileState.Size, bytes.Length);
        Assert.NotNull(AccountProfile.FromBytes(Alice, bytes));
        Assert.Null(AccountProfile.FromBytes(Alice, bytes.AsSpan(1)));
        bytes[0] ^= 0x7F;
        Assert.Null(AccountProfile.FromBytes(Alice, bytes));
    }

    [Fact]
    public async Task Learn_SeedsTheProfilesOfTheConfiguredStore_FromAPostfixLog()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-learn-").FullName;
        var mail = OfficeMail.Normal(Alice, OfficeMail.Monday, 21, seed: 1).Concat(OfficeMail.Normal("bob@example.com", OfficeMail.Monday.AddDays(15), 2, seed: 3)).ToList();
        var log = Path.Combine(folder, "mail.log");
        await File.WriteAllLinesAsync(log, OfficeMail.PostfixLines(mail));
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:0"], admin: "127.0.0.1:0", relay: [] }
            data_dir: {{Path.Combine(folder, "data")}}
            behaviour: { enabled: true }
            """);

        var (exit, output, error) = await FloodgateCli.RunAsync("learn", "--config", config, log);
        Assert.True(exit == 0, error);
        Assert.Contains($"{mail.Count} messages learned", output, StringComparison.Ordinal);
        Assert.Contains("1 of 2 accounts have enough history", output, StringComparison.Ordinal);

        var watch = new BehaviourWatch(new BehaviourOptions());
        using (var database = FloodgateDatabase.Open(Path.Combine(folder, "data")))
        {
            Assert.Equal(2, watch.Load(new SqliteProfiles(database).LoadAll()));
        }

        Assert.Equal(mail.Count(m => m.Login == Alice), watch.Find(Alice)!.Messages);

        // Seeded from the log, Alice is known at once: the same hijack is put on probation as with a profile learned live.
        Assert.Equal(Hijack(BehaviourWatchTests.Seeded()).FindIndex(f => f is not null), Hijack(watch).FindIndex(f => f is not null));
    }
}
