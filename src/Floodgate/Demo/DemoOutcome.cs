namespace Floodgate.Demo;

/// <summary>What the demo's story came to, as its summary tells it: counted at the next hop and in the quarantine.</summary>
/// <param name="HijackedSent">Messages the hijacked account handed to the relay (each answered 250).</param>
/// <param name="HijackedDelivered">Of those, how many reached the next hop before the account was contained.</param>
/// <param name="HijackedHeld">How many the quarantine held.</param>
/// <param name="HijackedPurged">How many the release with purge deleted.</param>
/// <param name="NormalSent">Messages the two normal users sent.</param>
/// <param name="NormalDelivered">Of those, how many reached the next hop.</param>
/// <param name="NextHopReceived">Every message the next hop received.</param>
public sealed record DemoOutcome(int HijackedSent, int HijackedDelivered, int HijackedHeld, int HijackedPurged, int NormalSent, int NormalDelivered,
    IReadOnlyCollection<DemoMailbox.ReceivedMail> NextHopReceived);
