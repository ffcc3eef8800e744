namespace Floodgate.Tests.Packaging;

/// <summary>The packaging tests install a real package on this machine: they run alone, never beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingGroup
{
    public const string Name = "debian package";
}
