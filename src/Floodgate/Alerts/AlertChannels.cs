namespace Floodgate.Alerts;

/// <summary>Makes the channels the <c>alerts:</c> section configures.</summary>
public static class AlertChannels
{
    public static IReadOnlyList<IAlertChannel> From(AlertOptions options, TimeProvider time)
    {
        var channels = new List<IAlertChannel>();
        if (options.Email is { } email)
        {
            channels.Add(new EmailAlertChannel(email, time));
        }

        if (options.Webhook is { } webhook)
        {
            channels.Add(new WebhookAlertChannel(webhook, time));
        }

        if (options.Command is { } command)
        {
            channels.Add(new CommandAlertChannel(command, time));
        }

        return channels;
    }
}
