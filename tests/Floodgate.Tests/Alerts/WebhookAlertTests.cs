using System.Text.Json;
using Floodgate.Alerts;

namespace Floodgate.Tests.Alerts;

public class WebhookAlertTests
{
    private const string SecretPath = "/hooks/T0KEN-9f8e7d";

    private static AlertOptions Options(Uri url, TimeSpan? timeout = null, TimeSpan? reminder = null) => new()
    {
        Webhook = new WebhookAlertOptions { Url = url, Timeout = timeout ?? TimeSpan.FromSeconds(10) },
        Retry = new AlertRetryOptions { Attempts = 3, FirstDelay = TimeSpan.FromMilliseconds(100) },
        Reminder = reminder ?? TimeSpan.Zero,
        DashboardUrl = "https://floodgate.example.com/",
    };

    [Fact]
    public async Task Webhook_SubjectsWithChatMarkup_ArriveEscaped_NoPingNoDisguisedLink()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        await using var alerts = await RunningDispatcher.StartAsync(Options(hook.Url(SecretPath)));
        var incident = AlertSamples.Incident(account: "<!here>@example.com");
        incident.Evidence.Subjects.Clear();
        incident.Evidence.Subjects.AddRange(["<!channel> urgent", "<https://evil.example/|Release here>", "[Release here](https://evil.example/)", "@channel @all look", "Fish & chips"]);
        incident.Evidence.Senders["@here"] = 3;

        alerts.Dispatcher.Opened(incident);
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via webhook") == 1, "the webhook to be delivered");

        using var json = JsonDocument.Parse(hook.Received.Single().Body);
        var text = json.RootElement.GetProperty("text").GetString()!;

        // Slack: only <...> makes a mention or a link, and &, < and > are to be sent as &amp; &lt; &gt;.
        Assert.DoesNotContain("<!channel>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<!here>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<https://evil.example/|", text, StringComparison.Ordinal);
        Assert.Contains("&lt;!channel&gt; urgent", text, StringComparison.Ordinal);
        Assert.Contains("&lt;https://evil.example/|Release here&gt;", text, StringComparison.Ordinal);
        Assert.Contains("Fish &amp; chips", text, StringComparison.Ordinal);
        Assert.DoesNotContain('<', text);

        // Mattermost and Teams: Markdown links and @-mentions.
        Assert.DoesNotContain("](https://evil.example/)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("@channel", text, StringComparison.Ordinal);
        Assert.DoesNotContain("@all", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" @here", text, StringComparison.Ordinal);

        // The structured fields stay the raw values, for a program to read.
        Assert.Equal("<!here>@example.com", json.RootElement.GetProperty("incident").GetProperty("identity").GetProperty("key").GetString());
    }

    [Fact]
    public async Task Webhook_FirstAttemptGets500_RetryDeliversTheDocumentedJson()
    {
        await using var hook = await HookReceiver.StartAsync((n, _) => Task.FromResult(n == 1 ? 500 : 200));
        await using var alerts = await RunningDispatcher.StartAsync(Options(hook.Url(SecretPath)));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via webhook") == 1, "the webhook to be delivered");

        Assert.Equal(2, hook.Requests);
        var received = hook.Received.ToArray();
        Assert.All(received, r => Assert.Equal(SecretPath, r.Path));
        Assert.All(received, r => Assert.StartsWith("application/json", r.ContentType, StringComparison.Ordinal));
        Assert.Equal(received[0].Body, received[1].Body);

        using var json = JsonDocument.Parse(received[1].Body);
        var root = json.RootElement;
        Assert.Equal("suspended", root.GetProperty("event").GetString());
        Assert.Equal("[Floodgate] account alice@example.com suspended: over limit hourly", root.GetProperty("subject").GetString());
        Assert.Contains("floodgate release alice@example.com --deliver", root.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("floodgate release alice@example.com --deliver", root.GetProperty("release_command").GetString());
        Assert.Equal("floodgate release alice@example.com --purge", root.GetProperty("purge_command").GetString());
        Assert.Equal("https://floodgate.example.com/", root.GetProperty("dashboard_url").GetString());

        var incident = root.GetProperty("incident");
        Assert.Equal(42, incident.GetProperty("id").GetInt64());
        Assert.Equal("account", incident.GetProperty("identity").GetProperty("scope").GetString());
        Assert.Equal("alice@example.com", incident.GetProperty("identity").GetProperty("key").GetString());
        Assert.Equal("hourly", incident.GetProperty("rule").GetString());
        Assert.StartsWith("account:alice@example.com has sent 500 of 500", incident.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(AlertSamples.OpenedAt, incident.GetProperty("opened_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, incident.GetProperty("auto_release_at").ValueKind);

        var evidence = incident.GetProperty("evidence");
        var hourly = evidence.GetProperty("counters").EnumerateArray().Single(c => c.GetProperty("rule").GetString() == "hourly");
        Assert.Equal((500, 500, "recipients", "1h"),
            (hourly.GetProperty("count").GetInt64(), hourly.GetProperty("max").GetInt64(), hourly.GetProperty("unit").GetString(), hourly.GetProperty("window").GetString()));
        Assert.Equal(280, evidence.GetProperty("client_addresses").GetProperty("192.0.2.7").GetInt64());
        Assert.Equal(120, evidence.GetProperty("recipient_domains").GetProperty("gmail.com").GetInt64());
        Assert.Equal(300, evidence.GetProperty("senders").GetProperty("alice@example.com").GetInt64());
        Assert.Equal(250, evidence.GetProperty("refused_messages").GetInt64());
        Assert.Equal(["4AbCdE1", "4AbCdE2"], evidence.GetProperty("queue_ids").EnumerateArray().Select(q => q.GetString()));
        Assert.Equal("suspended", incident.GetProperty("timeline")[0].GetProperty("kind").GetString());

        // The failure was logged with the answer, and the hook's token (its secret) is in no log line.
        Assert.Single(alerts.Logs.Lines, l => l.Contains("failed (attempt 1 of 3)", StringComparison.Ordinal) && l.Contains("answered 500", StringComparison.Ordinal));
        Assert.DoesNotContain(alerts.Logs.Lines, l => l.Contains("T0KEN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Webhook_NoAnswerWithinTimeout_IsAFailureAndIsRetried()
    {
        await using var hook = await HookReceiver.StartAsync(async (n, aborted) =>
        {
            if (n == 1)
            {
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            return 204;
        });
        await using var alerts = await RunningDispatcher.StartAsync(Options(hook.Url(SecretPath), timeout: TimeSpan.FromSeconds(1)));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via webhook") == 1, "the webhook to be delivered");

        Assert.Equal(2, hook.Requests);
        Assert.Single(alerts.Logs.Lines, l => l.Contains("did not answer within 1s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Raise_SameSystemProblemThreeTimes_OneSystemAlertWithItsText()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        await using var alerts = await RunningDispatcher.StartAsync(Options(hook.Url(SecretPath)));

        for (var i = 0; i < 3; i++)
        {
            alerts.Dispatcher.Raise("store unavailable", "SQLite at /var/lib/floodgate/floodgate.db: disk I/O error");
        }

        alerts.Dispatcher.Raise("Redis unreachable", "redis.example.com:6379: connection refused");
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via webhook") == 2, "two system alerts to be delivered");
        await Task.Delay(500);

        Assert.Equal(2, hook.Requests);
        var alert = hook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement)
            .Single(r => r.GetProperty("subject").GetString() == "[Floodgate] store unavailable");
        Assert.Equal("system", alert.GetProperty("event").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("incident").ValueKind);
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("release_command").ValueKind);
        Assert.StartsWith("SQLite at /var/lib/floodgate/floodgate.db: disk I/O error", alert.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reminder_RepeatsWhileTheIncidentIsOpen_AndStopsWhenItIsClosed()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        await using var alerts = await RunningDispatcher.StartAsync(Options(hook.Url(SecretPath), reminder: TimeSpan.FromMilliseconds(300)));
        var incident = AlertSamples.Incident();
        string[] Events() => [.. hook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("event").GetString()!)];

        alerts.Dispatcher.Opened(incident);
        await Eventually.TrueAsync(() => Events().Count(e => e == "reminder") >= 2, "two reminders");
        Assert.Equal("suspended", Events()[0]);
        var reminder = JsonDocument.Parse(hook.Received.Last().Body).RootElement;
        Assert.Equal("[Floodgate] reminder: account alice@example.com still suspended (over limit hourly)", reminder.GetProperty("subject").GetString());
        Assert.StartsWith("Reminder: account alice@example.com is still suspended", reminder.GetProperty("text").GetString(), StringComparison.Ordinal);

        incident.ClosedAt = DateTimeOffset.UtcNow;
        alerts.Dispatcher.Closed(incident);
        await Task.Delay(400);
        var afterClose = hook.Requests;
        alerts.Dispatcher.Opened(incident);
        await Task.Delay(1200);

        Assert.Equal(afterClose, hook.Requests);
        Assert.Equal(1, Events().Count(e => e == "suspended"));
        Assert.Equal(0, alerts.Dispatcher.OpenIncidents);
    }
}
