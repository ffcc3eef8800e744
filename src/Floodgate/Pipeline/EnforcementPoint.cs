using System.Net;

namespace Floodgate.Pipeline;

/// <summary>
/// One way mail reaches the decision pipeline (the policy service, the relay, the log watch, replay): its name in
/// logs and metrics, the networks whose mail without a login it trusts, and how it writes verdicts.
/// </summary>
/// <param name="Name">"policy", "relay", "log"...: the listener label of log lines, metrics and traffic history.</param>
/// <param name="Renderer">Writes the verdict in the point's protocol.</param>
/// <param name="TrustedNetworks">Clients whose mail without a login counts by the configured fallback (the envelope sender).</param>
/// <param name="HoldQueue">Where the point's held mail is recorded as it is held, or null when the point records it itself (the relay's spool).</param>
public sealed record EnforcementPoint(string Name, IVerdictRenderer Renderer, IReadOnlyList<IPNetwork> TrustedNetworks, IHeldMailRecorder? HoldQueue = null)
{
    /// <summary>True when <paramref name="clientAddress"/> is an address in one of <see cref="TrustedNetworks"/>.</summary>
    public bool Trusts(string? clientAddress)
    {
        if (clientAddress is null || TrustedNetworks.Count == 0 || !IPAddress.TryParse(clientAddress, out var address))
        {
            return false;
        }

        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in TrustedNetworks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
