namespace Floodgate.Tests;

/// <summary>Tests that measure the whole process (memory) or load the machine for seconds (the corpus replay) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialGroup
{
    public const string Name = "serial";
}
