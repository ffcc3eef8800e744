using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Dashboard;

[Collection(SerialGroup.Name)]
public class DashboardBrowserTests(ITestOutputHelper output)
{
    private const string Limits = """
        limits:
          - { name: burst, scope: account, unit: recipients, max: 500, per: 1m, action: defer }
          - { name: hourly, scope: account, unit: messages, max: 20, per: 1h, action: suspend }
        """;

    [Fact]
    public async Task Dashboard_RefusesStrangers_WrongPasswords_AndPostsWithoutCsrf()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = Chromium.Start();
        var driver = browser.Driver;

        driver.Navigate().GoToUrl(server.AdminUrl + "accounts/victim@example.com");
        Assert.Contains("/login", driver.Url, StringComparison.Ordinal);
        Assert.Empty(browser.FindAll("#suspended, #state"));

        browser.Find("#password").SendKeys("not-the-password");
        browser.Find("#login").Click();
        browser.WaitFor(() => browser.Text("#login-error").Contains("Wrong password", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the wrong password is refused");
        Assert.Contains("/login", driver.Url, StringComparison.Ordinal);
        output.WriteLine("screenshot: " + browser.Screenshot("login-refused"));

        browser.Find("#password").SendKeys(server.AdminPassword);
        browser.Find("#login").Click();
        browser.WaitFor(() => driver.Url.EndsWith("/accounts/victim@example.com", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "logging in returns to the page asked for");
        Assert.Equal("active", browser.Text("#state"));

        // The page's own session cookie, but no CSRF token: what a forged cross-site form would send.
        var status = driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch('/accounts/victim@example.com/suspend', { method: 'POST', credentials: 'same-origin',
                body: new URLSearchParams({ reason: 'forged' }) }).then(r => done(r.status), e => done(String(e)));
            """);
        Assert.Equal(403L, status);
        Assert.Empty(await server.Accounts.ListSuspensionsAsync());

        // The same session through the page's own form does suspend: the refusal above was the missing token.
        browser.Find("#suspend").Click();
        browser.WaitFor(() => browser.Text("#state") == "suspended", TimeSpan.FromSeconds(10), "the suspend button suspends");

        browser.Find("header form button").Click();
        browser.WaitFor(() => driver.Url.Contains("/login", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "logging out");
        driver.Navigate().GoToUrl(server.AdminUrl);
        Assert.Contains("/login", driver.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_FloodShowsSuspendedWithinSeconds_ReleaseMakesItActiveAndClosesTheIncident()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = Chromium.Start();
        var driver = browser.Driver;
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 8; i++)
        {
            await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 3, $"a{i}", "192.0.2.20"));
        }

        // The API token works as the password too.
        driver.Navigate().GoToUrl(server.AdminUrl);
        browser.Find("#password").SendKeys(server.AdminToken);
        browser.Find("#login").Click();
        browser.WaitFor(() => browser.FindAll("#suspended").Count == 1, TimeSpan.FromSeconds(10), "the overview after logging in");
        Assert.Contains("No account is suspended", browser.Text("#suspended"), StringComparison.Ordinal);

        // The hijacked account floods; the open overview must show it suspended without anyone reloading the page.
        var answers = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add(await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 5, $"m{i}", "203.0.113.66")));
        }

        Assert.Equal(20, answers.Count(a => a == "DUNNO"));
        var shownAfter = browser.WaitFor(() => browser.FindAll("#suspended tr[data-account='mallory@example.com']").Count == 1,
            TimeSpan.FromSeconds(10), "mallory@example.com listed as suspended on the open overview");
        output.WriteLine($"suspension shown on the overview {shownAfter.TotalSeconds:0.0} s after the flood");
        Assert.Equal("1", browser.Text("#tile-suspended .number"));
        Assert.Contains("mallory@example.com", browser.Text("#open-incidents"), StringComparison.Ordinal);
        Assert.Contains("alice@example.com", browser.Text("#top"), StringComparison.Ordinal);
        Assert.Contains("listening", browser.Text("#listeners"), StringComparison.Ordinal);
        Assert.NotEmpty(browser.FindAll("svg.chart polyline.series.messages"));
        output.WriteLine("screenshot: " + browser.Screenshot("overview"));

        browser.Find("#suspended tr[data-account='mallory@example.com'] td a").Click();
        browser.WaitFor(() => browser.Text("#state") == "suspended", TimeSpan.FromSeconds(10), "the account page shows the suspension");
        Assert.Contains("hourly: 20 / 20 messages per 1h", browser.Text("#limits"), StringComparison.Ordinal);
        Assert.Contains("hold", browser.Text("#decisions"), StringComparison.Ordinal);
        var incident = browser.Find("#incidents .incident");
        var incidentId = incident.GetAttribute("data-id");
        Assert.Equal("open", browser.Text($"#incidents .incident[data-id='{incidentId}'] .incident-state"));
        output.WriteLine("screenshot: " + browser.Screenshot("account-suspended"));

        browser.Find($"#incidents .incident[data-id='{incidentId}'] h3 a").Click();
        browser.WaitFor(() => browser.FindAll("#evidence").Count == 1, TimeSpan.FromSeconds(10), "the incident's page");
        Assert.Contains("203.0.113.66 (", browser.Text("#evidence"), StringComparison.Ordinal);
        Assert.Contains("20 messages", browser.Text("#evidence"), StringComparison.Ordinal);
        output.WriteLine("screenshot: " + browser.Screenshot("incident"));
        driver.Navigate().Back();
        browser.WaitFor(() => browser.Text("#state") == "suspended", TimeSpan.FromSeconds(10), "back on the account page");

        browser.FindAll("#actions button").First(b => b.Text == "Release and deliver").Click();
        browser.WaitFor(() => browser.Text("#state") == "active", TimeSpan.FromSeconds(10), "the released account shows as active");
        Assert.Equal("closed", browser.Text($"#incidents .incident[data-id='{incidentId}'] .incident-state"));
        Assert.Contains("Released", browser.Text("#flash"), StringComparison.Ordinal);
        Assert.Contains("delivered by dashboard", browser.Text($"#incidents .incident[data-id='{incidentId}'] .timeline"), StringComparison.Ordinal);
        output.WriteLine("screenshot: " + browser.Screenshot("account-released"));

        Assert.Empty(await server.Accounts.ListSuspensionsAsync());
        Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 1, "after", "203.0.113.66")));

        browser.Find("header nav a[href='/']").Click();
        browser.WaitFor(() => browser.Text("#suspended").Contains("No account is suspended", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "the overview no longer lists mallory as suspended");
        Assert.Equal("0", browser.Text("#tile-incidents .number"));
    }
}
