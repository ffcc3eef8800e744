using System.Diagnostics;
using Floodgate.Alerts;
using Floodgate.Engine;

namespace Floodgate.Tests.Alerts;

public class AlertDispatcherTests
{
    [Fact]
    public async Task Opened_FiveThousandIncidentsAgainstAStalledWebhook_ReturnsAtOnceAndHoldsABoundedNumber()
    {
        using var release = new CancellationTokenSource();
        await using var hook = await HookReceiver.StartAsync(async (_, aborted) =>
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(aborted, release.Token);
            await Task.Delay(Timeout.Infinite, either.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return 200;
        });
        var options = new AlertOptions
        {
            Webhook = new WebhookAlertOptions { Url = hook.Url("/stalled"), Timeout = TimeSpan.FromMinutes(5) },
            Retry = new AlertRetryOptions { Attempts = 6, FirstDelay = TimeSpan.FromSeconds(5) },
        };
        await using var alerts = await RunningDispatcher.StartAsync(options);

        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= 5000; i++)
        {
            alerts.Dispatcher.Opened(AlertSamples.Incident(id: i, account: $"user{i}@example.com"));
        }

        clock.Stop();

        // An Opened that waited for room would wait out the stalled hook's five-minute timeout.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"5000 Opened calls took {clock.Elapsed}");

        // Whatever the stalled channel cannot take is dropped and counted, never queued without bound.
        const int Dropped = 5000 - AlertDispatcher.MaxInFlightPerChannel;
        await Eventually.TrueAsync(() => alerts.Dispatcher.DroppedAlerts == Dropped, $"{Dropped} alerts dropped");
        await Eventually.TrueAsync(() => hook.Requests == AlertDispatcher.MaxInFlightPerChannel, "the in-flight deliveries to reach the hook");
        Assert.Contains(alerts.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains($"({Dropped} dropped so far)", StringComparison.Ordinal));
        await release.CancelAsync();
    }

    [Fact]
    public async Task Opened_IncidentWhoseTimelineRecordsTheAlert_IsNotAnnouncedAgainAfterARestart()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        var options = new AlertOptions { Webhook = new WebhookAlertOptions { Url = hook.Url("/hook") } };
        await using var alerts = await RunningDispatcher.StartAsync(options);
        var delivered = new List<AlertDelivered>();
        alerts.Dispatcher.Delivered += d =>
        {
            lock (delivered)
            {
                delivered.Add(d);
            }
        };

        var announced = AlertSamples.Incident(id: 1);
        announced.Timeline.Add(new IncidentEvent(AlertSamples.OpenedAt, "alerted", "floodgate", "webhook http://127.0.0.1"));
        alerts.Dispatcher.Opened(announced);
        alerts.Dispatcher.Opened(AlertSamples.Incident(id: 2, account: "carol@example.com"));
        await Eventually.TrueAsync(() => hook.Requests == 1, "the new incident's alert");
        await Task.Delay(500);

        Assert.Equal(1, hook.Requests);
        Assert.Contains("carol@example.com", hook.Received.Single().Body, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => delivered.Count == 1, "the delivery event");
        Assert.Equal((2L, AlertEvent.Suspended), (delivered[0].IncidentId, delivered[0].Event));
    }
}
