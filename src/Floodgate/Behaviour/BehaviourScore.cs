namespace Floodgate.Behaviour;

/// <summary>
/// An account's score against its own profile: the evidence points of each signal (each capped, so no one signal
/// decides alone) and the facts behind them, which the explanation puts in plain words.
/// </summary>
public readonly record struct BehaviourScore
{
    /// <summary>Volume far above the account's usual busiest hour or day: 0 to 6.</summary>
    public double Volume { get; init; }

    /// <summary>Recipients at domains never written to, by share and count: 0 to 6.</summary>
    public double NewDomains { get; init; }

    /// <summary>Recipient addresses never written to: 0 to 2.</summary>
    public double NewAddresses { get; init; }

    /// <summary>Mail from client networks the account never used, more with each message: 0 to 6.</summary>
    public double NewNetwork { get; init; }

    /// <summary>Mail at an hour of the week the account is never active: 0 or 2.</summary>
    public double OddHour { get; init; }

    /// <summary>A message to many more recipients than the account's usual: 0 to 4.</summary>
    public double RecipientsPerMessage { get; init; }

    /// <summary>An envelope sender the account never used that is not its login: 0 or 2.</summary>
    public double SenderMismatch { get; init; }

    /// <summary>Recipients that failed (5.1.x bounces), by share and count: 0 to 4.</summary>
    public double Failed { get; init; }

    /// <summary>The score: the sum of the points (0 to 32).</summary>
    public double Total => Volume + NewDomains + NewAddresses + NewNetwork + OddHour + RecipientsPerMessage + SenderMismatch + Failed;

    /// <summary>The most points each signal can give, in the order above.</summary>
    public const double MaxVolume = 6, MaxNewDomains = 6, MaxNewAddresses = 2, MaxNewNetwork = 6, MaxOddHour = 2, MaxRecipients = 4,
        MaxSenderMismatch = 2, MaxFailed = 4;

    /// <summary>Points for sending <paramref name="ratio"/> times the usual busiest volume: none up to twice, 6 at eight times.</summary>
    public static double VolumePoints(double ratio) => ratio <= 0 ? 0 : Math.Clamp(3 * Math.Log2(ratio) - 3, 0, MaxVolume);

    /// <summary>Points for a share of recipients at never-seen domains over <paramref name="domains"/> such domains.</summary>
    public static double NewDomainPoints(double share, int domains) => Math.Min(MaxNewDomains, share * Math.Min(domains, 8) * 0.75);

    /// <summary>Points for a share of never-written-to addresses over <paramref name="addresses"/> of them.</summary>
    public static double NewAddressPoints(double share, int addresses) => Math.Min(MaxNewAddresses, share * Math.Min(addresses, 16) * 0.125);

    /// <summary>Points for <paramref name="messages"/> sent in the last hour from networks the account never used.</summary>
    public static double NewNetworkPoints(int messages) => messages <= 0 ? 0 : Math.Min(MaxNewNetwork, 3 + (0.5 * (messages - 1)));

    /// <summary>Points for a message to <paramref name="ratio"/> times the usual most recipients: from 1 at twice to 4 at eight times.</summary>
    public static double RecipientPoints(double ratio) => ratio <= 1 ? 0 : Math.Clamp((2 * Math.Log2(ratio)) - 1, 0, MaxRecipients);

    /// <summary>Points for a share of failed recipients over <paramref name="failed"/> of them.</summary>
    public static double FailedPoints(double share, int failed) => Math.Min(MaxFailed, share * Math.Min(failed, 10) * 0.4);
}
