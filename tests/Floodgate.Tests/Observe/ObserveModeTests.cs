using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Floodgate.Engine;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Observe;

/// <summary>mode: observe, for the whole deployment and per limit, behind the real policy listener.</summary>
public sealed class ObserveModeTests
{
    private static async Task<List<string>> AskAsync(TestServer server, string account, int count, string state = "DATA")
    {
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        var answers = new List<string>();
        for (var i = 0; i < count; i++)
        {
            answers.Add(await policy.AskAsync(PolicyClient.Request(state, account, account, 1, $"m{i}")));
        }

        return answers;
    }

    [Theory]
    [InlineData("defer", "DEFER_IF_PERMIT")]
    [InlineData("hold", "HOLD")]
    public async Task GlobalObserve_AnswersDunnoWhereEnforceRefuses_AndLogsWhatItWouldHaveDone(string action, string refusal)
    {
        var limits = $"limits:\n  - {{ name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: {action} }}\n";
        await using (var enforcing = await TestServer.StartAsync(limits))
        {
            Assert.Equal(["DUNNO", "DUNNO", refusal, refusal], (await AskAsync(enforcing, "alice@example.com", 4)).Select(a => a.Split(' ')[0]));
        }

        await using var server = await TestServer.StartAsync("mode: observe\n" + limits);
        Assert.Equal(["DUNNO", "DUNNO", "DUNNO", "DUNNO"], await AskAsync(server, "alice@example.com", 4));

        var lines = server.DecisionLines.ToList();
        Assert.Equal(4, lines.Count);
        Assert.All(lines, l => Assert.Contains(" verdict=accept ", l, StringComparison.Ordinal));
        Assert.All(lines.Take(2), l => Assert.DoesNotContain("would_have=", l, StringComparison.Ordinal));
        foreach (var line in lines.Skip(2))
        {
            Assert.Contains($" mode=observe would_have={action} ", line, StringComparison.Ordinal);
            Assert.Contains(" rule=hourly ", line, StringComparison.Ordinal);
            Assert.Contains($"reason=\"observe mode, not enforced: would have {(action == "defer" ? "deferred" : "held")}: account:alice@example.com has sent", line, StringComparison.Ordinal);
            Assert.Contains(" action=\"DUNNO\"", line, StringComparison.Ordinal);
        }

        // The messages went out, so they are counted like accepted mail.
        Assert.Contains(" counters=hourly:4/2 ", lines[3], StringComparison.Ordinal);
        Assert.Empty(await server.Service<IIncidentStore>().ListAsync(false, 10));
    }

    [Fact]
    public async Task PerLimitObserve_OnlyThatLimitIsObserved_TheEnforcingOneStillHolds()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: trial, scope: account, unit: messages, max: 2, per: 1h, action: defer, mode: observe }
              - { name: hard, scope: account, unit: messages, max: 4, per: 1h, action: hold }
            """);

        var answers = await AskAsync(server, "bob@example.com", 6);
        Assert.Equal(["DUNNO", "DUNNO", "DUNNO", "DUNNO", "HOLD", "HOLD"], answers.Select(a => a.Split(' ')[0]));

        var lines = server.DecisionLines.ToList();
        Assert.All(lines.Skip(2).Take(2), l => Assert.Contains(" verdict=accept rule=trial ", l, StringComparison.Ordinal));
        Assert.All(lines.Skip(2).Take(2), l => Assert.Contains(" mode=observe would_have=defer ", l, StringComparison.Ordinal));
        Assert.All(lines.Skip(4), l => Assert.Contains(" verdict=hold rule=hard ", l, StringComparison.Ordinal));
        Assert.All(lines.Skip(4), l => Assert.DoesNotContain("mode=observe", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ObserveSuspend_SuspendsNobody_RecordsOneObserveOnlyIncident_AndAlertsOnceOnEveryChannelMarkedObserveOnly()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        await using var sink = await SmtpSink.StartAsync();
        var folder = Directory.CreateTempSubdirectory("floodgate-observe-hook-").FullName;
        try
        {
            var script = EnvHook.Write(folder);
            await using var server = await TestServer.StartAsync($$"""
                limits:
                  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
                alerts:
                  email: { to: ["postmaster@example.net"], from: "floodgate@example.net", host: 127.0.0.1, port: {{sink.Port}}, tls: none }
                  webhook: { url: "{{hook.Url("/hook")}}" }
                  command: { run: {{script}}, args: ["{{folder}}"] }
                """.Replace("limits:", "mode: observe\nlimits:", StringComparison.Ordinal));

            Assert.All(await AskAsync(server, "mallory@example.com", 10), a => Assert.Equal("DUNNO", a));
            await Eventually.TrueAsync(() => server.Logs.Lines.Count(l => l.Contains("alert observed sent via", StringComparison.Ordinal)) == 3, "the alert on all three channels");

            // More would-have-suspended mail in the same window: it is still accepted and adds evidence, not alerts.
            Assert.All(await AskAsync(server, "mallory@example.com", 5), a => Assert.Equal("DUNNO", a));
            await server.Service<Floodgate.Incidents.IncidentBook>().FlushAsync();
            await Task.Delay(500);

            Assert.Contains(" mode=observe would_have=hold cause=limit reason=\"observe mode, not enforced: would have held: account:mallory@example.com has sent 3 of 3 messages"
                + " allowed per 1h and this message adds 1 (rule hourly); account:mallory@example.com would have been suspended\" action=\"DUNNO\"", server.DecisionLines.ElementAt(3), StringComparison.Ordinal);
            Assert.Contains(server.Logs.Lines, l => l.Contains("WOULD HAVE SUSPENDED account:mallory@example.com by rule hourly (observe mode, nothing enforced)", StringComparison.Ordinal));
            Assert.Null(await server.Accounts.FindSuspensionAsync(new IdentityKeys("mallory@example.com", null, null, null)));
            using var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
            var account = JsonNode.Parse(await admin.GetStringAsync("api/accounts/mallory@example.com"))!;
            Assert.NotEqual("suspended", account["state"]!.GetValue<string>());
            var incident = Assert.Single(JsonNode.Parse(await admin.GetStringAsync("api/incidents"))!.AsArray())!;
            Assert.Equal("observe-only", incident["resolution"]!.GetValue<string>());
            Assert.Equal("closed", incident["state"]!.GetValue<string>());
            Assert.True(incident["observe_only"]!.GetValue<bool>());
            var (_, table, _) = await FloodgateCli.AgainstAsync(server, "incidents", "--all");
            Assert.Contains("closed (observe-only)", table, StringComparison.Ordinal);
            Assert.Contains("- (observe only)", table, StringComparison.Ordinal);
            Assert.Equal(15 - 3, incident["evidence"]!["refused_messages"]!.GetValue<long>());
            Assert.Empty(JsonNode.Parse(await admin.GetStringAsync("api/incidents?open=true"))!.AsArray());

            var webhook = Assert.Single(hook.Received);
            var json = JsonNode.Parse(webhook.Body)!;
            Assert.Equal("observed", json["event"]!.GetValue<string>());
            Assert.Equal("observe", json["mode"]!.GetValue<string>());
            Assert.StartsWith("[Floodgate] observe only: account mallory@example.com would have been suspended", json["subject"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Null(json["release_command"]);

            var mail = Assert.Single(sink.Messages());
            Assert.StartsWith("[Floodgate] observe only:", mail.Subject, StringComparison.Ordinal);
            Assert.Contains("OBSERVE MODE, nothing was enforced", mail.TextBody, StringComparison.Ordinal);
            Assert.DoesNotContain("floodgate release", mail.TextBody, StringComparison.Ordinal);
            Assert.Contains("To enforce, set mode: enforce", mail.TextBody, StringComparison.Ordinal);

            var env = EnvHook.Read(Assert.Single(EnvHook.Runs(folder)));
            Assert.Equal("observe", env["FLOODGATE_MODE"]);
            Assert.Equal("observed", env["FLOODGATE_EVENT"]);
            Assert.Equal("mallory@example.com", env["FLOODGATE_IDENTITY"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task EnforceSuspend_HookIsToldEnforce()
    {
        // The other side of FLOODGATE_MODE: a real suspension runs the hook with mode enforce and event suspended.
        var folder = Directory.CreateTempSubdirectory("floodgate-enforce-hook-").FullName;
        try
        {
            var script = EnvHook.Write(folder);
            await using var server = await TestServer.StartAsync($$"""
                limits:
                  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
                alerts:
                  command: { run: {{script}}, args: ["{{folder}}"] }
                """);
            var answers = await AskAsync(server, "mallory@example.com", 5);
            Assert.Equal(["DUNNO", "DUNNO", "DUNNO", "HOLD", "HOLD"], answers.Select(a => a.Split(' ')[0]));
            await Eventually.TrueAsync(() => server.Logs.Lines.Any(l => l.Contains("alert suspended sent via", StringComparison.Ordinal)), "the hook to run");
            var env = EnvHook.Read(Assert.Single(EnvHook.Runs(folder)));
            Assert.Equal("enforce", env["FLOODGATE_MODE"]);
            Assert.Equal("suspended", env["FLOODGATE_EVENT"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Dashboard_InObserve_ShowsTheBannerAndWhatWouldHaveHappened()
    {
        await using var server = await TestServer.StartAsync("""
            mode: observe
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: defer }
            """);
        await AskAsync(server, "carol@example.com", 3);
        using var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);

        var overview = await admin.GetStringAsync("/");
        Assert.Contains("Observe mode: nothing is enforced.", overview, StringComparison.Ordinal);
        var page = await admin.GetStringAsync("/accounts/carol@example.com");
        Assert.Contains("Observe mode: nothing is enforced.", page, StringComparison.Ordinal);
        Assert.Contains("accept (would have deferred)", page, StringComparison.Ordinal);
        Assert.Contains("last <strong>would have deferred</strong>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_InEnforce_HasNoObserveBanner()
    {
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: defer }
            """);
        using var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        Assert.DoesNotContain("observe-banner", await admin.GetStringAsync("/"), StringComparison.Ordinal);
    }
}
