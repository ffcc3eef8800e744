namespace Floodgate.Tests.Postfix;

/// <summary>Real Postfix instances run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostfixGroup
{
    public const string Name = "postfix";
}
