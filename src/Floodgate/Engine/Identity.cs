namespace Floodgate.Engine;

/// <summary>One counted identity: a scope and its normalised key (for example account "alice@example.com").</summary>
public readonly record struct Identity(Scope Scope, string Key)
{
    public override string ToString() => $"{ScopeNames.Of(Scope)}:{Key}";
}
