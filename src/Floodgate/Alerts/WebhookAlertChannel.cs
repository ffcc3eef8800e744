using System.Net.Http.Headers;
using System.Text;

namespace Floodgate.Alerts;

/// <summary>
/// POSTs each alert's JSON to the configured URL; a non-2xx answer, a network error or no answer within the timeout is
/// a failure to retry. One HttpClient for the channel's life, and not IHttpClientFactory, whose logging would write the
/// hook's URL (its secret) into the log.
/// </summary>
public sealed class WebhookAlertChannel : IAlertChannel, IDisposable
{
    private readonly WebhookAlertOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _client;

    public WebhookAlertChannel(WebhookAlertOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _client = new HttpClient(new SocketsHttpHandler
        {
            // Chat services move between addresses: do not keep one connection (and its DNS answer) for ever.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.Timeout,
            AllowAutoRedirect = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Floodgate", "1"));
    }

    public string Name => _options.DisplayName;

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var content = new StringContent(alert.Json, Encoding.UTF8, "application/json");
        try
        {
            using var response = await _client.PostAsync(_options.Url, content, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new AlertDeliveryException($"{Name} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"{Name} did not answer within {AlertOptions.FormatDuration(_options.Timeout)}");
        }
        catch (HttpRequestException e)
        {
            throw new AlertDeliveryException($"{Name}: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}");
        }
    }

    public void Dispose() => _client.Dispose();
}
