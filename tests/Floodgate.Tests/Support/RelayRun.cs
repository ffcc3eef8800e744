using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;

namespace Floodgate.Tests.Support;

/// <summary>What the relay crash tests read back from a running Floodgate and its next hop.</summary>
internal static partial class RelayRun
{
    /// <summary>An admin API client with the token Floodgate wrote into its data directory.</summary>
    public static async Task<HttpClient> AdminAsync(int port, string dataDirectory)
    {
        var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin.token"))).Trim());
        return admin;
    }

    /// <summary>Waits until the outbound queue is empty.</summary>
    public static async Task DrainedAsync(HttpClient admin, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            using var relay = await admin.GetFromJsonAsync<JsonDocument>("api/relay");
            var queued = relay!.RootElement.GetProperty("outbound_queue").GetInt32();
            if (queued == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, $"the outbound queue still holds {queued} messages after {timeout.TotalSeconds} s");
            await Task.Delay(200);
        }
    }

    /// <summary>The spool id Floodgate named in its Received header of a delivered message, or null.</summary>
    public static string? QueueIdOf(MimeMessage message) =>
        message.Headers.Where(h => h.Id == HeaderId.Received).Select(h => FloodgateReceived().Match(h.Value)).FirstOrDefault(m => m.Success)?.Groups[1].Value;

    [GeneratedRegex(@"\(Floodgate\) with \S+ id ([0-9a-f]+)")]
    private static partial Regex FloodgateReceived();
}
