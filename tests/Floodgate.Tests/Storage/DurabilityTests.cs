using System.Net;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Storage;

/// <summary>Nothing is forgotten on restart: suspensions and window counts survive a stop and a kill -9.</summary>
public class DurabilityTests
{
    private const string Limits = """
        snapshot_interval: 1s
        limits:
          - { name: hourly, scope: account, unit: messages, max: 10, per: 1h, action: suspend }
        """;

    private static async Task<int> SendAsync(EndPoint endpoint, string account, int messages, string tag)
    {
        await using var client = await PolicyClient.ConnectAsync(endpoint);
        var accepted = 0;
        for (var i = 0; i < messages; i++)
        {
            accepted += await client.AskAsync(PolicyClient.Request("DATA", account, account, 1, $"{tag}{i}")) == "DUNNO" ? 1 : 0;
        }

        return accepted;
    }

    [Fact]
    public async Task Restart_KeepsSuspensionsAndWindowCounts()
    {
        var data = Directory.CreateTempSubdirectory("floodgate-data-").FullName;
        try
        {
            await using (var first = await TestServer.StartAsync(Limits, dataDirectory: data))
            {
                Assert.Equal(4, await SendAsync(first.Tcp, "alice@example.com", 4, "a"));
                Assert.Equal(10, await SendAsync(first.Tcp, "mallory@example.com", 12, "m"));
            }

            await using var second = await TestServer.StartAsync(Limits, dataDirectory: data);

            // Alice's hour goes on where it was (4 of 10 used); Mallory is still suspended.
            Assert.Equal(6, await SendAsync(second.Tcp, "alice@example.com", 8, "b"));
            Assert.Equal(0, await SendAsync(second.Tcp, "mallory@example.com", 3, "n"));
            Assert.Contains(second.Logs.Lines, l => l.Contains("(2 counter windows and 1 suspensions restored)", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task KillNine_KeepsSuspensionsAndCounts_WithinTheSnapshotInterval()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-kill-").FullName;
        var port = FreePort.Next();
        var config = Path.Combine(folder, "floodgate.yml");
        File.WriteAllText(config, $"listen: {{ policy: [\"127.0.0.1:{port}\"], admin: \"127.0.0.1:0\" }}\ndata_dir: {folder}/data\nlog: {{ decisions: none }}\n" + Limits);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        try
        {
            using (var first = await FloodgateProcess.StartAsync(config, port))
            {
                Assert.Equal(4, await SendAsync(endpoint, "alice@example.com", 4, "a"));
                Assert.Equal(10, await SendAsync(endpoint, "mallory@example.com", 12, "m"));

                // The suspension is on disk before its answer; the counts within one snapshot interval (1s).
                await Task.Delay(2500);
                first.Kill();
                await first.WaitForExitAsync();
                Assert.NotEqual(0, first.ExitCode);
            }

            using var second = await FloodgateProcess.StartAsync(config, port);
            try
            {
                Assert.Equal(6, await SendAsync(endpoint, "alice@example.com", 8, "b"));
                Assert.Equal(0, await SendAsync(endpoint, "mallory@example.com", 3, "n"));
            }
            finally
            {
                second.Kill();
                await second.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Database_IsMigratedOnce_AndReopens()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-db-").FullName;
        try
        {
            using (var db = FloodgateDatabase.Open(folder))
            {
                Assert.Equal(5, db.SchemaVersion);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(db.Path));
                Assert.Equal("wal", db.Run(c =>
                {
                    using var command = c.CreateCommand();
                    command.CommandText = "PRAGMA journal_mode";
                    return (string)command.ExecuteScalar()!;
                }));
            }

            using var again = FloodgateDatabase.Open(folder);
            Assert.Equal(5, again.SchemaVersion);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
