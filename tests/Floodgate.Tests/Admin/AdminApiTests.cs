using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Admin;

public class AdminApiTests
{
    private const string Limits = """
        limits:
          - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
        """;

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic YWRtaW46YWRtaW4=")]
    public async Task Api_WithoutAValidToken_Is401(string? authorization)
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var http = new HttpClient();
        foreach (var (method, path) in new[] { (HttpMethod.Get, "api/health"), (HttpMethod.Get, "api/accounts"), (HttpMethod.Post, "api/accounts/a@b.c/release"), (HttpMethod.Get, "api/incidents") })
        {
            using var request = new HttpRequestMessage(method, server.AdminUrl + path);
            if (authorization is not null)
            {
                request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
            }

            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Api_Refusal_NamesTheTokenFileButNotTheServersPaths()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var http = new HttpClient();
        using var response = await http.GetAsync(server.AdminUrl + "api/health");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(Floodgate.Admin.AdminToken.FileName, body, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Options.DataDirectory, body, StringComparison.Ordinal);
        Assert.DoesNotContain("/tmp", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_Token_IsGeneratedIntoTheDataDirectory_OwnerOnly()
    {
        await using var server = await TestServer.StartAsync(Limits);
        var path = Path.Combine(server.Options.DataDirectory, Floodgate.Admin.AdminToken.FileName);
        Assert.Equal(server.AdminToken, File.ReadAllText(path).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.True(server.AdminToken.Length >= 40);

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        var health = JsonNode.Parse(await http.GetStringAsync(server.AdminUrl + "api/health"))!;
        Assert.Equal("ok", health["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cli_SuspendListReleaseAndIncidents_WorkEndToEnd()
    {
        await using var server = await TestServer.StartAsync(Limits);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 5; i++)
        {
            await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 1, $"m{i}", "203.0.113.66"));
        }

        await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, "a1"));

        var status = await FloodgateCli.AgainstAsync(server, "status");
        Assert.Equal(0, status.Exit);
        Assert.Contains("floodgate: ok; 1 suspended, 1 open incidents", status.Output, StringComparison.Ordinal);

        var accounts = await FloodgateCli.AgainstAsync(server, "accounts");
        var lines = accounts.Output.Split('\n');
        Assert.StartsWith("ACCOUNT", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^mallory@example\.com\s+suspended\s+hourly 3/3 per 1h\s+1$", lines[1]);
        Assert.Matches(@"^alice@example\.com\s+active\s+hourly 1/3 per 1h", lines[2]);

        var incidents = await FloodgateCli.AgainstAsync(server, "incidents");
        Assert.Matches(@"1\s+account:mallory@example\.com\s+hourly\s+\S+ \S+\s+open\s+2\s+by admin", incidents.Output);

        var detail = JsonNode.Parse((await FloodgateCli.AgainstAsync(server, "incidents", "1")).Output)!;
        Assert.Equal(2, detail["evidence"]!["client_addresses"]!["203.0.113.66"]!.GetValue<long>());
        Assert.Equal("hourly", detail["evidence"]!["counters"]![0]!["rule"]!.GetValue<string>());

        var suspend = await FloodgateCli.AgainstAsync(server, "suspend", "alice@example.com", "--reason", "phished, says the helpdesk");
        Assert.Equal(0, suspend.Exit);
        Assert.StartsWith("HOLD", await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, "a2")), StringComparison.Ordinal);

        var release = await FloodgateCli.AgainstAsync(server, "release", "mallory@example.com", "--purge");
        Assert.Equal(0, release.Exit);
        Assert.Contains("mallory@example.com released; 0 held messages purged; incident 1 closed", release.Output, StringComparison.Ordinal);
        Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 1, "m9")));

        var json = JsonNode.Parse((await FloodgateCli.AgainstAsync(server, "incidents", "--all", "--json")).Output)!.AsArray();
        Assert.Equal(["open", "closed"], json.Select(i => i!["state"]!.GetValue<string>()));
        Assert.Equal("purged", json[1]!["resolution"]!.GetValue<string>());
        Assert.StartsWith("cli:", json[1]!["closed_by"]!.GetValue<string>(), StringComparison.Ordinal);

        var notSuspended = await FloodgateCli.AgainstAsync(server, "release", "nobody@example.com", "--deliver");
        Assert.Equal(1, notSuspended.Exit);
        Assert.Contains("404", notSuspended.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_AnAccountWithASlashInItsName_IsSuspendedShownAndReleased()
    {
        await using var server = await TestServer.StartAsync(Limits);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 4; i++)
        {
            await policy.AskAsync(PolicyClient.Request("DATA", "a/b@example.com", "a/b@example.com", 1, $"s{i}"));
        }

        Assert.Equal("a/b@example.com", Assert.Single(await server.Accounts.ListSuspensionsAsync()).Identity.Key);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        var shown = JsonNode.Parse(await http.GetStringAsync(server.AdminUrl + "api/accounts/" + Uri.EscapeDataString("a/b@example.com")))!;
        Assert.Equal("suspended", shown["state"]!.GetValue<string>());

        var release = await FloodgateCli.AgainstAsync(server, "release", "a/b@example.com", "--deliver");
        Assert.True(release.Exit == 0, release.Error);
        Assert.Contains("a/b@example.com released", release.Output, StringComparison.Ordinal);
        Assert.Empty(await server.Accounts.ListSuspensionsAsync());
        Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "a/b@example.com", "a/b@example.com", 1, "s9")));

        Assert.Equal(0, (await FloodgateCli.AgainstAsync(server, "suspend", "c/d@example.com")).Exit);
        Assert.Equal("c/d@example.com", Assert.Single(await server.Accounts.ListSuspensionsAsync()).Identity.Key);
    }

    [Fact]
    public async Task Cli_Exempt_RaisesTheLimitUntilItEnds()
    {
        await using var server = await TestServer.StartAsync(Limits);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        var until = DateTimeOffset.UtcNow.AddHours(2).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        var exempt = await FloodgateCli.AgainstAsync(server, "exempt", "newsletter@example.com", "--max", "8", "--until", until);
        Assert.Equal(0, exempt.Exit);
        Assert.Contains("newsletter@example.com: limits raised to 8 until", exempt.Output, StringComparison.Ordinal);

        var accepted = 0;
        for (var i = 0; i < 10; i++)
        {
            accepted += await policy.AskAsync(PolicyClient.Request("DATA", "newsletter@example.com", "newsletter@example.com", 1, $"n{i}")) == "DUNNO" ? 1 : 0;
        }

        Assert.Equal(8, accepted);

        Assert.Equal(0, (await FloodgateCli.AgainstAsync(server, "exempt", "monitor@example.com", "--until", until)).Exit);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "monitor@example.com", "monitor@example.com", 1, $"x{i}")));
        }

        Assert.Equal(0, (await FloodgateCli.AgainstAsync(server, "exempt", "monitor@example.com", "--remove")).Exit);
        var after = 0;
        for (var i = 0; i < 5; i++)
        {
            after += await policy.AskAsync(PolicyClient.Request("DATA", "monitor@example.com", "monitor@example.com", 1, $"y{i}")) == "DUNNO" ? 1 : 0;
        }

        Assert.Equal(3, after);
        var bad = await FloodgateCli.AgainstAsync(server, "exempt", "x@example.com", "--until", "2001-01-01T00:00Z");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("until must be a future time", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_Override_ChangesTheLimit_AndSurvivesARestart()
    {
        var data = Directory.CreateTempSubdirectory("floodgate-override-").FullName;
        try
        {
            await using (var server = await TestServer.StartAsync(Limits, dataDirectory: data))
            {
                using var http = new HttpClient();
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
                using var bad = await http.PostAsJsonAsync(server.AdminUrl + "api/overrides", new { key = "bulk.example", rule = "nosuch", max = 5 });
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                using var set = await http.PostAsJsonAsync(server.AdminUrl + "api/overrides", new { key = "bulk.example", rule = "hourly", max = 6 });
                Assert.Equal(HttpStatusCode.OK, set.StatusCode);
                Assert.Equal(6, await AcceptedAsync(server, "news@bulk.example", 10, "a"));
            }

            await using var again = await TestServer.StartAsync(Limits, dataDirectory: data);
            Assert.Equal(6, await AcceptedAsync(again, "other@bulk.example", 10, "b"));
            var accounts = await FloodgateCli.AgainstAsync(again, "accounts");
            Assert.Contains("hourly 6/6 per 1h", accounts.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<int> AcceptedAsync(TestServer server, string account, int messages, string tag)
    {
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        var accepted = 0;
        for (var i = 0; i < messages; i++)
        {
            accepted += await policy.AskAsync(PolicyClient.Request("DATA", account, account, 1, $"{tag}{i}")) == "DUNNO" ? 1 : 0;
        }

        return accepted;
    }

    [Fact]
    public async Task Cli_WithoutARunningFloodgate_SaysSoClearly()
    {
        var result = await FloodgateCli.RunAsync("status", "--url", $"http://127.0.0.1:{FreePort.Next()}/", "--token", "x");
        Assert.Equal(1, result.Exit);
        Assert.Contains("cannot reach Floodgate's admin API", result.Error, StringComparison.Ordinal);
    }
}
