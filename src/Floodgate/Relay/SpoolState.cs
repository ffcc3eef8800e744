namespace Floodgate.Relay;

/// <summary>Where a spooled message is: waiting for delivery, or held in the quarantine.</summary>
public enum SpoolState
{
    Queued,
    Held,
}
