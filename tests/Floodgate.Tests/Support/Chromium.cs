using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Floodgate.Tests.Support;

/// <summary>
/// Debian's headless Chromium driven through Debian's chromedriver (same release, so they always match). A missing
/// browser fails the test with what to install; nothing is ever downloaded.
/// </summary>
internal sealed class Chromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private Chromium(ChromeDriver driver)
    {
        Driver = driver;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Where screenshots go: $FLOODGATE_TEST_OUTPUT/screenshots, else artifacts/test-output/screenshots in the repository.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(
        Environment.GetEnvironmentVariable("FLOODGATE_TEST_OUTPUT") is { Length: > 0 } output ? output : Path.Combine(Repository.Root, "artifacts", "test-output"),
        "screenshots");

    public static Chromium Start()
    {
        foreach (var (path, package) in new[] { (BrowserPath, "chromium"), (DriverPath, "chromium-driver") })
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} is missing: the dashboard tests need Debian's headless browser (apt-get install chromium chromium-driver; ./test.sh installs them)");
            }
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };

        // The tests run as root, where Chromium's sandbox cannot start; everything it loads is on loopback.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,1100",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--lang=en-US");
        return new Chromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)));
    }

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    public IReadOnlyCollection<IWebElement> FindAll(string css) => Driver.FindElements(By.CssSelector(css));

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public TimeSpan WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition())
                {
                    return clock.Elapsed;
                }
            }
            catch (WebDriverException)
            {
                // The page was being replaced under the query (live refresh): ask again.
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"after {timeout.TotalSeconds:0} s still not: {what}; the page shows: {Text("body")}");
            }

            Thread.Sleep(100);
        }
    }

    public string Text(string css)
    {
        try
        {
            return Find(css).Text;
        }
        catch (NoSuchElementException)
        {
            return "";
        }
    }

    /// <summary>Saves a PNG of the page and returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
