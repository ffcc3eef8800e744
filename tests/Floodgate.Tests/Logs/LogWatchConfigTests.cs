namespace Floodgate.Tests.Logs;

public class LogWatchConfigTests
{
    [Fact]
    public void ListenLog_TakesKerioFiles_AndRefusesPostfixWithTheReason()
    {
        var options = Floodgate.Configuration.ConfigLoader.Parse("listen: { log: [{ path: /var/log/kerio/mail.log, format: kerio }] }\n", "t.yml");
        Assert.Equal(new Floodgate.Logs.LogWatchOptions("/var/log/kerio/mail.log", Floodgate.Logs.LogFormat.Kerio), Assert.Single(options.LogWatches));

        var error = Assert.Throws<Floodgate.Configuration.ConfigException>(() =>
            Floodgate.Configuration.ConfigLoader.Parse("listen:\n  log:\n    - { path: /var/log/mail.log, format: postfix }\n", "t.yml"));
        Assert.Contains("t.yml:3:", error.Message, StringComparison.Ordinal);
        Assert.Contains("the live log watch reads kerio logs", error.Message, StringComparison.Ordinal);
    }
}
