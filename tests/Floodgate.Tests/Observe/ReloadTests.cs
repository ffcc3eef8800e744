using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Observe;

/// <summary>Switching observe to enforce with only a reload: the admin API, `floodgate reload` and SIGHUP.</summary>
public sealed class ReloadTests
{
    private const string Limits = """
        limits:
          - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: defer }
        """;

    private static HttpClient Admin(TestServer server)
    {
        var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        return admin;
    }

    [Fact]
    public async Task ReloadApi_ObserveToEnforce_TheNextOverLimitRequestIsDeferred()
    {
        await using var server = await TestServer.StartAsync("mode: observe\n" + Limits, configFile: true);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, $"o{i}")));
        }

        Assert.Contains("  mode: observe (nothing is enforced)", (await FloodgateCli.AgainstAsync(server, "status")).Output, StringComparison.Ordinal);
        server.RewriteConfig("mode: enforce\n" + Limits);
        using var admin = Admin(server);
        using var response = await admin.PostAsync("api/reload", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var done = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("enforce", done["mode"]!.GetValue<string>());
        Assert.Empty(done["restart_needed"]!.AsArray());

        // On the same connection, with no restart: the counter kept its 3 messages and the limit now refuses.
        Assert.StartsWith("DEFER_IF_PERMIT", await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, "e1")), StringComparison.Ordinal);
        Assert.Contains(server.Logs.Lines, l => l.Contains("reload: ", StringComparison.Ordinal) && l.Contains("applied: mode enforce", StringComparison.Ordinal));
        Assert.Contains("  mode: enforce\n", (await FloodgateCli.AgainstAsync(server, "status")).Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        var audit = JsonNode.Parse(await admin.GetStringAsync("api/audit"))!.AsArray();
        Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == "reload");
    }

    [Fact]
    public async Task ReloadCli_EnforceToPerLimitObserve_AndNamesTheKeysThatNeedARestart()
    {
        await using var server = await TestServer.StartAsync(Limits, configFile: true);
        server.RewriteConfig("""
            fail_mode: closed
            limits:
              - { name: hourly, scope: account, unit: messages, max: 5, per: 1h, action: defer, mode: observe }
            """);

        var (exit, output, error) = await FloodgateCli.AgainstAsync(server, "reload");
        Assert.True(exit == 0, error);
        Assert.Contains("reloaded: mode enforce; observe only: hourly", output, StringComparison.Ordinal);
        Assert.Contains("changed, but applied only by a restart: fail_mode, limits.hourly", output, StringComparison.Ordinal);

        // The mode applied; the new max did not (it waits for a restart): the third message would have been deferred.
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "bob@example.com", "bob@example.com", 1, $"b{i}")));
        }

        Assert.Contains(" mode=observe would_have=defer ", server.DecisionLines.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_BrokenFile_IsRefused_TheOldConfigurationStays_AndTheErrorIsLogged()
    {
        await using var server = await TestServer.StartAsync("mode: observe\n" + Limits, configFile: true);
        server.RewriteConfig("""
            mode: enforce
            limits:
              - { name: hourly, scope: account, unit: messages, max: lots, per: 1h, action: defer }
            """);

        using var admin = Admin(server);
        using var response = await admin.PostAsync("api/reload", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var refused = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.False(refused["applied"]!.GetValue<bool>());
        Assert.Contains("'lots' is not a whole number", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("observe", refused["mode"]!.GetValue<string>());
        Assert.Contains(server.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal)
            && l.Contains("refused, the running configuration stays as it was", StringComparison.Ordinal) && l.Contains("'lots'", StringComparison.Ordinal));

        var (exit, _, error) = await FloodgateCli.AgainstAsync(server, "reload");
        Assert.Equal(1, exit);
        Assert.Contains("'lots' is not a whole number", error, StringComparison.Ordinal);

        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "carol@example.com", "carol@example.com", 1, $"c{i}")));
        }
    }

    [Fact]
    public async Task Sighup_ToTheRealProcess_SwitchesObserveToEnforce()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-sighup-").FullName;
        var port = FreePort.Next();
        var config = Path.Combine(folder, "floodgate.yml");
        string Config(string mode) => $"""
            mode: {mode}
            listen:
              policy: ["127.0.0.1:{port}"]
              admin: 127.0.0.1:{FreePort.Next()}
            data_dir: {folder}/data
            log:
              decisions: none
            {Limits}
            """;
        File.WriteAllText(config, Config("observe"));
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, port, log.Enqueue);
            await using var policy = await PolicyClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "dave@example.com", "dave@example.com", 1, $"d{i}")));
            }

            File.WriteAllText(config, Config("enforce"));
            using (var kill = Process.Start("kill", ["-HUP", floodgate.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            await Eventually.TrueAsync(() => log.Any(l => l.Contains("applied: mode enforce", StringComparison.Ordinal)), "the reload's log line");
            Assert.False(floodgate.HasExited, "SIGHUP must not end the process");
            Assert.StartsWith("DEFER_IF_PERMIT", await policy.AskAsync(PolicyClient.Request("DATA", "dave@example.com", "dave@example.com", 1, "d4")), StringComparison.Ordinal);
        }
        finally
        {
            await FloodgateProcess.StopAsync(floodgate);
            Directory.Delete(folder, recursive: true);
        }
    }
}
