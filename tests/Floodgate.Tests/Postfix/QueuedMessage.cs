namespace Floodgate.Tests.Postfix;

/// <summary>One message in Postfix's queue as `postqueue -j` lists it.</summary>
internal sealed record QueuedMessage(string Queue, string QueueId, string Sender, IReadOnlyList<string> Recipients);
