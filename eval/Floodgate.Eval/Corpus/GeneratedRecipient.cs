namespace Floodgate.Eval.Corpus;

/// <summary>One recipient of a generated message: internal ones go to the local mailboxes (lmtp), the rest out by smtp.</summary>
public readonly record struct GeneratedRecipient(string Address, bool Internal, bool Bounced);
