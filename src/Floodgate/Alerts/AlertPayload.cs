using System.Text;
using System.Text.Json;
using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>Writes the alert JSON of the webhook and the command hook; the schema is documented in Alerts/README.md.</summary>
internal static class AlertPayload
{
    public static string Write(Alert alert)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteString("event", alert.EventName);
            json.WriteString("mode", alert.ModeName);
            json.WriteString("subject", alert.Subject);
            json.WriteString("text", ChatText.Escape(alert.Text));
            json.WriteString("sent_at", alert.At);
            if (alert.Incident is { } incident)
            {
                json.WritePropertyName("incident");
                WriteIncident(json, incident);
            }
            else
            {
                json.WriteNull("incident");
            }

            WriteOptional(json, "release_command", alert.ReleaseCommand);
            WriteOptional(json, "purge_command", alert.PurgeCommand);
            WriteOptional(json, "dashboard_url", alert.DashboardUrl);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteIncident(Utf8JsonWriter json, Incident incident)
    {
        json.WriteStartObject();
        json.WriteNumber("id", incident.Id);
        json.WriteStartObject("identity");
        json.WriteString("scope", ScopeNames.Of(incident.Identity.Scope));
        json.WriteString("key", incident.Identity.Key);
        json.WriteEndObject();
        WriteOptional(json, "rule", incident.Rule);
        json.WriteString("reason", incident.Reason);
        json.WriteString("opened_at", incident.OpenedAt);
        WriteOptional(json, "auto_release_at", incident.AutoReleaseAt);

        var evidence = incident.Evidence;
        json.WriteStartObject("evidence");
        json.WriteStartArray("counters");
        foreach (var c in evidence.Counters)
        {
            json.WriteStartObject();
            json.WriteString("rule", c.Rule);
            json.WriteString("unit", c.Unit);
            json.WriteNumber("count", c.Count);
            json.WriteNumber("max", c.Max);
            json.WriteString("window", c.Window);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteOptional(json, "first_submission", evidence.FirstSubmission);
        WriteOptional(json, "last_submission", evidence.LastSubmission);
        json.WriteNumber("refused_messages", evidence.RefusedMessages);
        json.WriteNumber("refused_recipients", evidence.RefusedRecipients);
        WriteCounts(json, "client_addresses", evidence.ClientAddresses);
        WriteCounts(json, "recipient_domains", evidence.RecipientDomains);
        WriteCounts(json, "senders", evidence.Senders);
        WriteStrings(json, "queue_ids", evidence.QueueIds);
        WriteStrings(json, "subjects", evidence.Subjects);
        json.WriteEndObject();

        json.WriteStartArray("timeline");
        foreach (var e in incident.Timeline)
        {
            json.WriteStartObject();
            json.WriteString("at", e.At);
            json.WriteString("kind", e.Kind);
            json.WriteString("by", e.By);
            json.WriteString("detail", e.Detail);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteCounts(Utf8JsonWriter json, string name, Dictionary<string, long> counts)
    {
        json.WriteStartObject(name);
        foreach (var (key, count) in counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(key, count);
        }

        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, List<string> items)
    {
        json.WriteStartArray(name);
        foreach (var item in items)
        {
            json.WriteStringValue(item);
        }

        json.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } at)
        {
            json.WriteString(name, at);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
