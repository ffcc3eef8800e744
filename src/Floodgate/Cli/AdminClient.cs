using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Admin;
using Floodgate.Configuration;

namespace Floodgate.Cli;

/// <summary>The CLI's way to a running Floodgate: its admin API, with the token from the data directory.</summary>
public sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    private AdminClient(Uri baseAddress, string token, HttpMessageHandler handler)
    {
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Add(AdminApi.ActorHeader, $"cli:{Environment.UserName}");
    }

    /// <summary>
    /// Finds the API: <paramref name="url"/> or the configuration's listen.admin; the token from
    /// <paramref name="token"/>, $FLOODGATE_TOKEN or the configuration's data directory.
    /// </summary>
    public static AdminClient Create(string? configPath, string? url, string? token)
    {
        var options = ConfigLoader.Load(configPath);
        var address = url ?? $"{(options.Admin.UsesTls ? "https" : "http")}://{options.AdminEndpoint.Tcp}";
        token ??= Environment.GetEnvironmentVariable("FLOODGATE_TOKEN") ?? AdminToken.Read(options.DataDirectory)
            ?? throw new CliException($"no admin token: give --token, set FLOODGATE_TOKEN, or run where {Path.Combine(options.DataDirectory, AdminToken.FileName)} is readable");
        return new AdminClient(new Uri(address.EndsWith('/') ? address : address + "/"), token, Handler(options));
    }

    // A self-signed admin certificate is common on a loopback endpoint: trust the one the configuration names.
    private static HttpClientHandler Handler(FloodgateOptions options)
    {
        var handler = new HttpClientHandler();
        if (options.Admin.UsesTls && AdminCertificate.Load(options.Admin) is { } configured)
        {
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None || certificate?.Thumbprint == configured.Thumbprint;
        }

        return handler;
    }

    public Task<JsonNode> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    public Task<JsonNode> PostAsync(string path, object body) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) });

    public Task<JsonNode> DeleteAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Delete, path));

    public void Dispose() => _http.Dispose();

    private async Task<JsonNode> SendAsync(HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach Floodgate's admin API at {_http.BaseAddress}: {e.Message} (is `floodgate serve` running?)");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            JsonNode? json = null;
            try
            {
                json = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }

            if (!response.IsSuccessStatusCode)
            {
                var error = json?["error"]?.GetValue<string>() ?? text;
                throw new CliException($"{(int)response.StatusCode} {response.ReasonPhrase}: {error}");
            }

            return json ?? new JsonObject();
        }
    }
}
