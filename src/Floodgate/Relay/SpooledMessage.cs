namespace Floodgate.Relay;

/// <summary>
/// The envelope and state of one accepted message, stored beside its content in the spool; a change is written as a
/// new copy (see <see cref="MessageSpool.SaveAsync"/>).
/// </summary>
public sealed record SpooledMessage
{
    public required string Id { get; init; }

    public required SpoolState State { get; init; }

    /// <summary>The envelope sender; empty for the null sender (bounces and our own delivery reports).</summary>
    public required string Sender { get; init; }

    /// <summary>Recipients not yet delivered.</summary>
    public required IReadOnlyList<string> Recipients { get; init; }

    /// <summary>Recipients the next hop refused for good, with its answer.</summary>
    public IReadOnlyList<RecipientFailure> Failed { get; init; } = [];

    /// <summary>Recipients already delivered.</summary>
    public int Delivered { get; init; }

    public required string ClientAddress { get; init; }

    public string? Helo { get; init; }

    /// <summary>The login the client authenticated with, if any.</summary>
    public string? Login { get; init; }

    /// <summary>Who the message was counted against ("account:alice@example.com").</summary>
    public string? CountedAs { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Size of the stored content in bytes.</summary>
    public long Size { get; init; }

    public string? Subject { get; init; }

    public string? From { get; init; }

    public string? MessageId { get; init; }

    /// <summary>The identity the message is held for ("account:alice@example.com"); releasing it releases the message.</summary>
    public string? HeldFor { get; init; }

    /// <summary>Why the message is held.</summary>
    public string? HeldReason { get; init; }

    public DateTimeOffset? HeldAt { get; init; }

    /// <summary>Held because a defer limit was reached: released by itself, oldest first, once its window has room.</summary>
    public bool Delayed { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public string? LastError { get; init; }

    /// <summary>True for a delivery report Floodgate wrote itself: it is never answered with another one.</summary>
    public bool IsReport { get; init; }
}
