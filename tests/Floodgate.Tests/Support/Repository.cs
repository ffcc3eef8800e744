namespace Floodgate.Tests.Support;

/// <summary>Finds files of the repository the tests were built from (deploy snippets, README).</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string ReadFile(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Floodgate.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Floodgate.slnx not found above {AppContext.BaseDirectory}");
    }
}
