namespace Floodgate.Alerts;

/// <summary>A channel could not deliver an alert; the message says why in words fit for the log, without secrets.</summary>
public sealed class AlertDeliveryException : Exception
{
    public AlertDeliveryException()
    {
    }

    public AlertDeliveryException(string message)
        : base(message)
    {
    }

    public AlertDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
