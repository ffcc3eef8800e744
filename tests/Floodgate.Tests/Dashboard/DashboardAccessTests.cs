using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Floodgate.Admin;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Dashboard;

public partial class DashboardAccessTests
{
    private const string Limits = """
        limits:
          - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
        """;

    [Fact]
    public async Task Session_CookieIsHttpOnlyAndSameSite_ApiAcceptsIt_MutationsNeedTheCsrfToken()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        var login = await browser.LogInAsync(server.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AdminAccess.SessionCookie + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);

        using var health = await browser.Http.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var forged = await browser.Http.PostAsync("api/accounts/bob@example.com/suspend", JsonContent.Create(new { reason = "forged" }));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Empty(await server.Accounts.ListSuspensionsAsync());

        var csrf = await browser.CsrfTokenAsync("/");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/accounts/bob@example.com/suspend") { Content = JsonContent.Create(new { reason = "from the dashboard" }) };
        request.Headers.Add(AdminAccess.CsrfHeader, csrf);
        using var suspended = await browser.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        var suspension = Assert.Single(await server.Accounts.ListSuspensionsAsync());
        Assert.Equal("dashboard", suspension.By);
    }

    [Fact]
    public async Task Login_WithoutTheCsrfToken_IsRefused()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        await browser.CsrfTokenAsync(AdminAccess.LoginPath);
        using var response = await browser.Http.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["password"] = server.AdminPassword }));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(AdminAccess.SessionCookie, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Login_AfterTooManyFailures_IsRefusedEvenWithTheRightPassword()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        for (var i = 0; i < Floodgate.Admin.Dashboard.DashboardPages.MaxFailedLogins; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.LogInAsync($"guess-{i}")).StatusCode);
        }

        var blocked = await browser.LogInAsync(server.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Contains("Too many failed logins", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_ThrottleIsPerAddress_OtherAddressesAndTheTokenStillGetIn()
    {
        await using var server = await TestServer.StartAsync(Limits);

        // 127.0.0.2 is another loopback address: here it stands for a guesser somewhere else on the network.
        using var guesser = new Session(server.AdminUrl, local: IPAddress.Parse("127.0.0.2"));
        for (var i = 0; i < Floodgate.Admin.Dashboard.DashboardPages.MaxFailedLogins; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.LogInAsync($"guess-{i}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await guesser.LogInAsync(server.AdminPassword)).StatusCode);

        using var admin = new Session(server.AdminUrl);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.LogInAsync(server.AdminPassword)).StatusCode);

        // The API token is not guessable: neither as a bearer header nor in the login form is it ever throttled.
        using var script = new Session(server.AdminUrl, local: IPAddress.Parse("127.0.0.2"));
        script.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.AdminToken);
        using var health = await script.Http.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await guesser.LogInAsync(server.AdminToken)).StatusCode);
    }

    [Theory]
    [InlineData("/\t/evil.example/")]
    [InlineData("/\n/evil.example/")]
    [InlineData("/\r\nSet-Cookie: x=y")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("https://evil.example/")]
    [InlineData(" /evil")]
    [InlineData("/ /evil.example/")]
    [InlineData("/\u0085/evil.example/")]
    public async Task Login_ReturnAddressThatIsNotALocalPath_RedirectsHome(string escaped)
    {
        var target = System.Text.RegularExpressions.Regex.Unescape(escaped);
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        var login = await browser.LogInAsync(server.AdminPassword, target);
        Assert.True(login.StatusCode == HttpStatusCode.Redirect, await login.Content.ReadAsStringAsync() + string.Join(";", server.Logs.Lines));
        Assert.Equal("/", login.Headers.Location?.OriginalString);

        using var page = await browser.Http.GetAsync("login?return=" + Uri.EscapeDataString(target));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Login_ReturnAddressThatIsALocalPath_IsKept()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        var login = await browser.LogInAsync(server.AdminPassword, "/accounts/bob%40example.com?hours=6");
        Assert.Equal("/accounts/bob%40example.com?hours=6", login.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Flash_FromTheQueryString_ShowsOnlyTheDashboardsOwnTexts()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var browser = new Session(server.AdminUrl);
        await browser.LogInAsync(server.AdminPassword);
        var forged = await browser.Http.GetStringAsync("accounts/bob@example.com?done=" + Uri.EscapeDataString("Your account is locked: call +1 555 0100"));
        Assert.DoesNotContain("555 0100", forged, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"flash\"", forged, StringComparison.Ordinal);
        var quarantine = await browser.Http.GetStringAsync("quarantine?done=" + Uri.EscapeDataString("Run floodgate purge --all now"));
        Assert.DoesNotContain("purge --all", quarantine, StringComparison.Ordinal);

        // The dashboard's own actions still say what they did.
        var csrf = await browser.CsrfTokenAsync("/accounts/bob@example.com");
        using var suspend = await browser.Http.PostAsync("accounts/bob@example.com/suspend", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["reason"] = "test" }));
        Assert.Equal(HttpStatusCode.Redirect, suspend.StatusCode);
        var shown = await browser.Http.GetStringAsync(suspend.Headers.Location!.OriginalString.TrimStart('/'));
        Assert.Contains("Suspended: its mail is held until you release it.", shown, StringComparison.Ordinal);
        using var release = await browser.Http.PostAsync("accounts/bob@example.com/release", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["mode"] = "deliver" }));
        var released = await browser.Http.GetStringAsync(release.Headers.Location!.OriginalString.TrimStart('/'));
        Assert.Contains("Released; 0 held messages sent on.", released, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetPassword_ReplacesTheGeneratedPassword_KeepingOnlyAnOwnerOnlyHash()
    {
        await using var server = await TestServer.StartAsync(Limits);
        var generated = server.AdminPassword;
        var folder = server.Options.DataDirectory;
        var config = Path.Combine(folder, "set-password.yml");
        var secret = Path.Combine(folder, "new-password.txt");
        await File.WriteAllTextAsync(config, $"data_dir: {folder}\n");
        await File.WriteAllTextAsync(secret, "correct horse battery staple\n");

        var (exit, output, error) = await FloodgateCli.RunAsync("set-password", "--config", config, "--password-file", secret);
        Assert.True(exit == 0, error);
        Assert.Contains("dashboard password set", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, AdminPassword.FileName)));
        var hash = Path.Combine(folder, AdminPassword.HashFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(hash));
        Assert.DoesNotContain("horse", await File.ReadAllTextAsync(hash), StringComparison.Ordinal);

        using var browser = new Session(server.AdminUrl);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.LogInAsync(generated)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.LogInAsync("correct horse battery staple")).StatusCode);

        await File.WriteAllTextAsync(secret, "short\n");
        (exit, _, error) = await FloodgateCli.RunAsync("set-password", "--config", config, "--password-file", secret);
        Assert.Equal(1, exit);
        Assert.Contains("at least 12 characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminEndpoint_WithACertificate_ServesHttps_AndMarksCookiesSecure()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-tls-").FullName;
        try
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllTextAsync(Path.Combine(folder, "admin.pem"), certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(folder, "admin.key"), key.ExportPkcs8PrivateKeyPem());
            await using var server = await TestServer.StartAsync(Limits + $"\nadmin:\n  tls_certificate: {folder}/admin.pem\n  tls_key: {folder}/admin.key\n");
            Assert.StartsWith("https://", server.AdminUrl, StringComparison.Ordinal);

            using var browser = new Session(server.AdminUrl, certificate.Thumbprint);
            var login = await browser.LogInAsync(server.AdminPassword);
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AdminAccess.SessionCookie + "=", StringComparison.Ordinal));
            Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);

            // The CLI trusts the certificate the configuration names, self-signed or not.
            var config = Path.Combine(folder, "cli.yml");
            await File.WriteAllTextAsync(config, $"listen:\n  admin: {server.AdminUrl[8..^1]}\ndata_dir: {server.Options.DataDirectory}\nadmin:\n  tls_certificate: {folder}/admin.pem\n  tls_key: {folder}/admin.key\n");
            var (exit, output, error) = await FloodgateCli.RunAsync("status", "--config", config);
            Assert.True(exit == 0, error);
            Assert.Contains("ok", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Config_AdminCertificateThatIsMissing_IsReportedWithItsLine()
    {
        var error = Assert.Throws<Floodgate.Configuration.ConfigException>(() => Floodgate.Configuration.ConfigLoader.Parse(
            "admin:\n  tls_certificate: /nonexistent/admin.pem\n  session_timeout: 5x\n", "floodgate.yml"));
        Assert.Contains("floodgate.yml:2:20: admin.tls_certificate: no such file: /nonexistent/admin.pem", error.Message, StringComparison.Ordinal);
        Assert.Contains("floodgate.yml:3:20: admin.session_timeout: '5x' is not a duration", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfInput();

    /// <summary>An HTTP client that keeps cookies like a browser and does not follow redirects, so they can be checked.</summary>
    private sealed class Session : IDisposable
    {
        public Session(string baseUrl, string? trustedThumbprint = null, IPAddress? local = null)
        {
            var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
            if (trustedThumbprint is not null)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 c && c.Thumbprint == trustedThumbprint;
            }

            if (local is not null)
            {
                handler.ConnectCallback = async (context, cancellation) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                };
            }

            Http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl) };
        }

        public HttpClient Http { get; }

        public async Task<string> CsrfTokenAsync(string path)
        {
            var page = await Http.GetStringAsync(path.TrimStart('/'));
            return WebUtility.HtmlDecode(CsrfInput().Match(page).Groups[1].Value);
        }

        public async Task<HttpResponseMessage> LogInAsync(string password, string target = "/")
        {
            var csrf = await CsrfTokenAsync(AdminAccess.LoginPath);
            return await Http.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["password"] = password, ["csrf"] = csrf, ["return"] = target }));
        }

        public void Dispose() => Http.Dispose();
    }
}
