using Floodgate.Alerts;

namespace Floodgate.Storage;

/// <summary>
/// The incident announcements that reached a channel, written the moment each is delivered, so a restart after a
/// crash does not announce an incident again (the incident's own timeline is saved in batches).
/// </summary>
public sealed class SqliteAlertDeliveries(FloodgateDatabase database)
{
    /// <summary>How long a delivery is remembered: far longer than an incident stays open unnoticed.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromDays(90);

    /// <summary>Records one delivery (a second of the same incident, channel and event is ignored).</summary>
    public void Record(AlertDelivered delivered)
    {
        if (delivered.IncidentId is not { } id)
        {
            return;
        }

        database.Run(c =>
        {
            using var insert = c.CreateCommand();
            insert.CommandText = """
                INSERT OR IGNORE INTO alerts_delivered (incident_id, channel, event, delivered_at)
                VALUES ($id, $channel, $event, $at)
                """;
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$channel", delivered.Channel);
            insert.Parameters.AddWithValue("$event", delivered.Event.ToString().ToLowerInvariant());
            insert.Parameters.AddWithValue("$at", delivered.At.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            return insert.ExecuteNonQuery();
        });
    }

    /// <summary>The channels that delivered <paramref name="event"/> for an incident.</summary>
    public List<string> ChannelsOf(long incidentId, AlertEvent @event) => database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT channel FROM alerts_delivered WHERE incident_id = $id AND event = $event ORDER BY delivered_at";
        select.Parameters.AddWithValue("$id", incidentId);
        select.Parameters.AddWithValue("$event", @event.ToString().ToLowerInvariant());
        using var reader = select.ExecuteReader();
        var channels = new List<string>();
        while (reader.Read())
        {
            channels.Add(reader.GetString(0));
        }

        return channels;
    });

    /// <summary>Forgets deliveries older than <see cref="Kept"/>; returns how many.</summary>
    public int DeleteOlderThan(DateTimeOffset now) => database.Run(c =>
    {
        using var delete = c.CreateCommand();
        delete.CommandText = "DELETE FROM alerts_delivered WHERE delivered_at < $cutoff";
        delete.Parameters.AddWithValue("$cutoff", (now - Kept).ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        return delete.ExecuteNonQuery();
    });
}
