namespace Floodgate.Relay;

/// <summary>Where accepted messages wait for delivery to the next hop.</summary>
public interface IOutboundDelivery
{
    /// <summary>Takes a message already durable in the spool in state <see cref="SpoolState.Queued"/>.</summary>
    void Enqueue(SpooledMessage message);

    /// <summary>Messages waiting or in flight.</summary>
    int Depth { get; }
}
