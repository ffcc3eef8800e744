namespace Floodgate.Eval.Corpus;

/// <summary>One message in a labels file: its queue id, the account that sent it, when, to how many, and whether it is spam.</summary>
public sealed record LabelledMessage(string QueueId, string Account, DateTimeOffset Time, int Recipients, bool Spam);
