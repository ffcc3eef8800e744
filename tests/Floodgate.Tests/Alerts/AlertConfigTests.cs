using Floodgate.Alerts;
using Floodgate.Configuration;

namespace Floodgate.Tests.Alerts;

public class AlertConfigTests
{
    private const string Password = "s3cr3t-Pa55word";

    private const string Valid = """
        alerts:
          email: { to: ["postmaster@example.com", "oncall@example.com"], from: "floodgate@example.com", host: smtp.example.com, port: 587, tls: starttls, username: floodgate, password: "s3cr3t-Pa55word" }
          webhook: { url: "https://chat.example.com/hooks/abc", timeout: 5s }
          command: { run: /bin/true, args: ["--verbose"], timeout: 1m }
          retry: { attempts: 4, first_delay: 250ms }
          reminder: 1h
          dashboard_url: "https://floodgate.example.com/"
        """;

    private static FloodgateOptions Parse(string yaml, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(yaml, "floodgate.yml", env ?? []);

    private static string ErrorOf(string yaml, Dictionary<string, string>? env = null) =>
        Assert.Throws<ConfigException>(() => Parse(yaml, env)).Message;

    [Fact]
    public void AlertsSection_IsReadCompletely()
    {
        var alerts = Parse(Valid).Alerts;

        Assert.True(alerts.Enabled);
        Assert.Equal(["postmaster@example.com", "oncall@example.com"], alerts.Email!.To);
        Assert.Equal(("floodgate@example.com", "smtp.example.com", 587, EmailTls.StartTls), (alerts.Email.From, alerts.Email.Host, alerts.Email.Port, alerts.Email.Tls));
        Assert.Equal(("floodgate", Password), (alerts.Email.Username, alerts.Email.Password));
        Assert.Equal(new Uri("https://chat.example.com/hooks/abc"), alerts.Webhook!.Url);
        Assert.Equal(TimeSpan.FromSeconds(5), alerts.Webhook.Timeout);
        Assert.Equal(("/bin/true", "--verbose", TimeSpan.FromMinutes(1)), (alerts.Command!.Run, alerts.Command.Args.Single(), alerts.Command.Timeout));
        Assert.Equal((4, TimeSpan.FromMilliseconds(250)), (alerts.Retry.Attempts, alerts.Retry.FirstDelay));
        Assert.Equal(TimeSpan.FromHours(1), alerts.Reminder);
        Assert.Equal("https://floodgate.example.com/", alerts.DashboardUrl);
        Assert.Equal(3, AlertChannels.From(alerts, TimeProvider.System).Count);
    }

    [Fact]
    public void NoAlertsSection_MeansNoChannels_AndTheDocumentedDefaults()
    {
        var alerts = Parse("alerts:\n  email: { to: admin@example.com, from: fg@example.com, host: 127.0.0.1 }\n  reminder: 0s\n  dashboard_url: \"\"\n").Alerts;

        Assert.False(Parse("exempt: []\n").Alerts.Enabled);
        Assert.Equal((25, EmailTls.None, (string?)null), (alerts.Email!.Port, alerts.Email.Tls, alerts.Email.Username));
        Assert.Equal((6, TimeSpan.FromSeconds(5), TimeSpan.Zero), (alerts.Retry.Attempts, alerts.Retry.FirstDelay, alerts.Reminder));
        Assert.Null(alerts.DashboardUrl);
        var remote = Parse("alerts:\n  email: { to: admin@example.com, from: fg@example.com, host: smtp.example.com }\n").Alerts.Email!;
        Assert.Equal((587, EmailTls.StartTls), (remote.Port, remote.Tls));
    }

    [Theory]
    [InlineData("alerts:\n  webhook: { url: \"chat.example.com/hooks/abc\" }\n", "floodgate.yml:2:19: alerts.webhook.url: is not an absolute http:// or https:// URL")]
    [InlineData("alerts:\n  webhook: { url: \"ftp://chat.example.com/x\" }\n", "alerts.webhook.url: is not an absolute http:// or https:// URL")]
    [InlineData("alerts:\n  webhook: { timeout: 5s }\n", "floodgate.yml:2:12: alerts.webhook.url: is missing")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: 127.0.0.1, port: 70000 }\n",
        "floodgate.yml:2:77: alerts.email.port: '70000' is not a whole number from 1 to 65535")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: 127.0.0.1, tls: ssl }\n",
        "alerts.email.tls: 'ssl' is not one of: none, starttls, implicit")]
    [InlineData("alerts:\n  email: { to: [], from: f@example.com, host: 127.0.0.1 }\n", "floodgate.yml:2:16: alerts.email.to: needs at least one address")]
    [InlineData("alerts:\n  email: { from: f@example.com, host: 127.0.0.1 }\n", "floodgate.yml:2:10: alerts.email.to: needs at least one address")]
    [InlineData("alerts:\n  email: { to: [postmaster], from: f@example.com, host: 127.0.0.1 }\n", "alerts.email.to: 'postmaster' is not a mail address")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: floodgate, host: 127.0.0.1 }\n", "alerts.email.from: 'floodgate' is not a mail address")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: \"smtp example\" }\n", "alerts.email.host: 'smtp example' is not a host name")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: smtp.example.com, username: fg }\n",
        "alerts.email.password: is missing: a username needs a password (here or in FLOODGATE_ALERTS__EMAIL__PASSWORD)")]
    [InlineData("alerts:\n  email: { to: [a@example.com], form: f@example.com, host: 127.0.0.1 }\n", "alerts.email.form: is not a known key; did you mean 'from'?")]
    [InlineData("alerts:\n  command: { run: hooks/disable.sh }\n", "alerts.command.run: 'hooks/disable.sh' is not an absolute path")]
    [InlineData("alerts:\n  command: { run: /nonexistent/disable-account }\n", "alerts.command.run: '/nonexistent/disable-account' does not exist")]
    [InlineData("alerts:\n  command: { run: /bin/true, timeout: 2x }\n", "alerts.command.timeout: '2x' is not a duration from 100ms to 1h")]
    [InlineData("alerts:\n  retry: { attempts: 0 }\n", "alerts.retry.attempts: '0' is not a whole number from 1 to 20")]
    [InlineData("alerts:\n  reminder: 10s\n", "floodgate.yml:2:13: alerts.reminder: '10s' is not 0s (no reminder) or a duration from 1m to 7d")]
    [InlineData("alerts:\n  dashboard_url: floodgate.local\n", "alerts.dashboard_url: is not an absolute http:// or https:// URL")]
    [InlineData("alerts:\n  sms: { to: \"+4412345\" }\n", "floodgate.yml:2:3: alerts.sms: is not a known key")]
    public void BadAlertSetting_IsReportedWithKeyAndLine(string yaml, string expected)
    {
        Assert.Contains(expected, ErrorOf(yaml), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: smtp.example.com, password: \"s3cr3t-Pa55word\" }\n",
        "alerts.email.username: is missing: a password is set")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: smtp.example.com, tls: none, username: fg, password: \"s3cr3t-Pa55word\" }\n",
        "alerts.email.tls: is none, which would send the password in clear text to smtp.example.com")]
    [InlineData("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: 127.0.0.1, username: fg, pasword: \"s3cr3t-Pa55word\" }\n",
        "alerts.email.pasword: is not a known key; did you mean 'password'?")]
    public void PasswordMistake_IsReported_WithoutThePassword(string yaml, string expected)
    {
        var error = ErrorOf(yaml);

        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error, StringComparison.Ordinal);
    }

    [Fact]
    public void PasswordFromTheEnvironment_IsUsed_AndAppearsInNoDescriptionOfTheOptions()
    {
        var env = new Dictionary<string, string> { ["FLOODGATE_ALERTS__EMAIL__PASSWORD"] = Password };
        var options = Parse("alerts:\n  email: { to: [a@example.com], from: f@example.com, host: smtp.example.com, username: fg }\n", env);

        Assert.Equal(Password, options.Alerts.Email!.Password);
        Assert.DoesNotContain(Password, options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("abc", Parse(Valid).Alerts.Webhook!.ToString(), StringComparison.Ordinal);
    }
}
