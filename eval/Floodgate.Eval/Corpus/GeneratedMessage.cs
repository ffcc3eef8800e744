namespace Floodgate.Eval.Corpus;

/// <summary>One message of the corpus as the generator made it: who, when, from where, to whom, and whether it is spam.</summary>
public sealed class GeneratedMessage
{
    public required DateTimeOffset Time { get; init; }

    /// <summary>The sending account's index in <see cref="GeneratedCorpus.Accounts"/>.</summary>
    public required int Account { get; init; }

    /// <summary>Its place among the account's messages (ties in time keep the order they were made in).</summary>
    public required int Sequence { get; init; }

    public required string ClientAddress { get; init; }

    public required GeneratedRecipient[] Recipients { get; init; }

    public required long Size { get; init; }

    public required bool Spam { get; init; }

    /// <summary>Postfix's queue id, given once every message is in submission order.</summary>
    public string QueueId { get; internal set; } = "";
}
