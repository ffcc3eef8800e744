using Floodgate.Relay;

namespace Floodgate.Quarantine;

/// <summary>A held message as an admin reviews it: its envelope, its headers and the start of its body.</summary>
public sealed record HeldMessageView(SpooledMessage Message, string Headers, string BodyStart, bool BodyCut);
