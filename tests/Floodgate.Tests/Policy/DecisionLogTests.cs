using Floodgate.Engine;
using Floodgate.Hosting;

namespace Floodgate.Tests.Policy;

public class DecisionLogTests
{
    [Fact]
    public async Task DecisionLog_WritesEveryLine_OfAConcurrentBurst()
    {
        var path = Path.GetTempFileName();
        try
        {
            var log = DecisionLog.Open(path);
            var rule = new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 50, TimeSpan.FromHours(1), LimitAction.Suspend);
            var rules = new RuleSet([rule]);
            var submission = new Submission("mallory@floodgate.test", "mallory@floodgate.test", 20, 799, "127.0.0.1", DateTimeOffset.UtcNow);
            var suspension = new Suspension(new Identity(Scope.Account, "mallory@floodgate.test"), DateTimeOffset.UtcNow, "hourly", "over limit hourly: 50 of 50 messages per 1h used, next message adds 1", "floodgate");
            var decision = new Decision(Verdict.Hold, DecisionCause.Suspended, rule, suspension.Identity, Suspension: suspension);
            await Parallel.ForAsync(0, 1000, async (i, cancel) =>
            {
                log.Write("policy", submission, decision, [-1], rules, "DATA", "HOLD Floodgate: mallory@floodgate.test over limit hourly");
                if (i % 50 == 0)
                {
                    await Task.Delay(10, cancel);
                }
            });
            await log.FlushAsync();
            Assert.Equal(1000, File.ReadAllLines(path).Length);
            await log.DisposeAsync();
            Assert.Equal(1000, File.ReadAllLines(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task DecisionLog_NamesTheQueueIdAsOneWord_AndQuotesOneThatIsNot()
    {
        using var stream = new MemoryStream();
        var log = DecisionLog.To(stream);
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 50, TimeSpan.FromHours(1), LimitAction.Suspend)]);
        var submission = new Submission("alice@example.com", "alice@example.com", 1, 0, "192.0.2.7", DateTimeOffset.UtcNow);
        var accept = new Decision(Verdict.Accept, DecisionCause.WithinLimits);
        log.Write("policy", submission, accept, [1], rules, "DATA", "DUNNO"u8, "28D35B24701"u8);
        log.Write("policy", submission, accept, [1], rules, "DATA", "DUNNO"u8, "x\"y z\r"u8);
        await log.FlushAsync();
        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(" queue_id=28D35B24701 state=DATA", lines[0], StringComparison.Ordinal);
        Assert.Contains(" queue_id=\"x\\\"y z?\" state=DATA", lines[1], StringComparison.Ordinal);
        await log.DisposeAsync();
    }

    [Fact]
    public async Task DecisionLog_FileIsCreatedReadableByOwnerAndGroupOnly()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-log-").FullName;
        try
        {
            var path = Path.Combine(folder, "decisions.log");
            var log = DecisionLog.Open(path);
            await log.DisposeAsync();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
