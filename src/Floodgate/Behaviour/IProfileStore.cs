namespace Floodgate.Behaviour;

/// <summary>Where account profiles are kept across restarts: SQLite in the data directory, or Redis for a cluster.</summary>
public interface IProfileStore
{
    /// <summary>Every saved profile, as the bytes <see cref="AccountProfile.ToBytes"/> made.</summary>
    IEnumerable<(string Account, byte[] State)> LoadAll();

    /// <summary>Saves (replaces) these profiles.</summary>
    void Save(IReadOnlyList<(string Account, byte[] State)> profiles);
}
