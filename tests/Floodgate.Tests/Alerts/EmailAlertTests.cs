using System.Text;
using Floodgate.Alerts;

namespace Floodgate.Tests.Alerts;

public class EmailAlertTests
{
    private static AlertOptions Options(int port, string? username = null, string? password = null, int attempts = 3) => new()
    {
        Email = new EmailAlertOptions
        {
            To = ["postmaster@example.com", "oncall@example.com"],
            From = "floodgate@example.com",
            Host = "127.0.0.1",
            Port = port,
            Tls = EmailTls.None,
            Username = username,
            Password = password,
        },
        Retry = new AlertRetryOptions { Attempts = attempts, FirstDelay = TimeSpan.FromMilliseconds(100) },
        DashboardUrl = "https://floodgate.example.com/incidents",
    };

    [Fact]
    public async Task EmailAlert_ArrivesAtTheSmtpServer_NamingAccountRuleEvidenceAndReleaseCommands()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var alerts = await RunningDispatcher.StartAsync(Options(sink.Port));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via email") == 1, "the mail to be sent");

        var message = Assert.Single(sink.Messages());
        Assert.Equal("[Floodgate] account alice@example.com suspended: over limit hourly", message.Subject);
        Assert.Equal("floodgate@example.com", message.From.Mailboxes.Single().Address);
        Assert.Equal(["postmaster@example.com", "oncall@example.com"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Contains("<postmaster@example.com>", message.Headers["X-Rcpt-Args"], StringComparison.Ordinal);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);

        var body = message.TextBody;
        Assert.Contains("Floodgate suspended account alice@example.com: over limit hourly.", body, StringComparison.Ordinal);
        Assert.Contains("has sent 500 of 500 recipients allowed per 1h", body, StringComparison.Ordinal);
        Assert.Contains("hourly  500 of 500 recipients per 1h\n", body, StringComparison.Ordinal);
        Assert.Contains("burst    50 of 60 recipients per 1m\n", body, StringComparison.Ordinal);
        Assert.Contains("First submission:  2026-11-27 20:01:17 UTC", body, StringComparison.Ordinal);
        Assert.Contains("250 messages, 1,200 recipients", body, StringComparison.Ordinal);
        Assert.Matches(@"192\.0\.2\.7 +280", body);
        Assert.Matches(@"gmail\.com +120", body);
        Assert.Contains("4AbCdE1", body, StringComparison.Ordinal);
        Assert.Contains("\"Your invoice is overdue\"", body, StringComparison.Ordinal);
        Assert.Contains("2026-11-27 20:58:17 UTC  suspended by engine: over limit hourly", body, StringComparison.Ordinal);
        Assert.Contains("    floodgate release alice@example.com --deliver\n", body, StringComparison.Ordinal);
        Assert.Contains("    floodgate release alice@example.com --purge\n", body, StringComparison.Ordinal);
        Assert.Contains("Dashboard: https://floodgate.example.com/incidents", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opened_TenThousandTimesForOneIncident_OneMailArrives()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var alerts = await RunningDispatcher.StartAsync(Options(sink.Port));
        var incident = AlertSamples.Incident(id: 7, account: "bob@example.com");

        // Every held message of the hijacked account reports the incident again, from many connections at once.
        Parallel.For(0, 10_000, _ => alerts.Dispatcher.Opened(incident));
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via email") >= 1, "the mail to be sent");
        await Task.Delay(1500);

        var message = Assert.Single(sink.Messages());
        Assert.Equal("[Floodgate] account bob@example.com suspended: over limit hourly", message.Subject);
        Assert.Equal(1, alerts.LinesWith("sent via email"));
        Assert.Equal(0, alerts.Dispatcher.DroppedAlerts);
    }

    [Fact]
    public async Task EmailAlert_LoginRefused_PasswordAppearsInNoLogLine()
    {
        const string Password = "Tr0ub4dor&3-never-log-me";
        await using var sink = await SmtpSink.StartAsync("-f", "AUTH");
        await using var alerts = await RunningDispatcher.StartAsync(Options(sink.Port, "alerts@example.com", Password, attempts: 2));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("giving up") == 1, "the mail channel to give up");

        // Both attempts were reported, naming the server and what it refused, and no message got through.
        Assert.Single(alerts.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("(attempt 1 of 2)", StringComparison.Ordinal));
        Assert.Contains(alerts.Logs.Lines, l => l.Contains("SMTP 127.0.0.1:" + sink.Port, StringComparison.Ordinal)
            && l.Contains("log in as alerts@example.com", StringComparison.Ordinal) && l.Contains("500", StringComparison.Ordinal));
        Assert.Equal(0, sink.MessageCount);

        var plainAuth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0alerts@example.com\0{Password}"));
        Assert.DoesNotContain(alerts.Logs.Lines, l => l.Contains(Password, StringComparison.Ordinal) || l.Contains(plainAuth, StringComparison.Ordinal)
            || l.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)), StringComparison.Ordinal));
        Assert.DoesNotContain(Password, alerts.Dispatcher.Channels.Single().Name, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, Options(sink.Port, "alerts@example.com", Password).ToString(), StringComparison.Ordinal);
    }
}
