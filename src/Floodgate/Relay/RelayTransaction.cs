using System.Net;

namespace Floodgate.Relay;

/// <summary>One message's envelope as the SMTP session collected it, handed to the intake with its content.</summary>
public sealed record RelayTransaction(
    string Sender,
    IReadOnlyList<string> Recipients,
    IPAddress ClientAddress,
    string? Helo,
    string? Login,
    DateTimeOffset ReceivedAt);
