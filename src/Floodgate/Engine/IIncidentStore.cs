namespace Floodgate.Engine;

/// <summary>Where incidents are kept: SQLite in the embedded default.</summary>
public interface IIncidentStore
{
    /// <summary>Stores a new incident and sets its <see cref="Incident.Id"/>.</summary>
    Task AddAsync(Incident incident);

    /// <summary>Saves an incident's changed evidence, timeline or closing.</summary>
    Task SaveAsync(Incident incident);

    Task<Incident?> GetAsync(long id);

    /// <summary>Incidents, newest first: only open ones, or all up to <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Incident>> ListAsync(bool openOnly, int limit);
}
