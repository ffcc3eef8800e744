using Floodgate.Tests.Support;

namespace Floodgate.Tests.Postfix;

public class SnippetTests
{
    [Fact]
    public void Readme_ShowsExactlyTheMainCfLinesThatTheTestsInstall()
    {
        var readme = Repository.ReadFile("README.md").Replace("\r", "", StringComparison.Ordinal);
        var snippet = PostfixInstance.Snippet("main.cf").Trim();

        Assert.Contains("check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }", snippet, StringComparison.Ordinal);
        Assert.Contains(snippet, readme, StringComparison.Ordinal);
    }

    [Fact]
    public void DeploySnippets_PointAtTheEmbeddedDefaultEndpoint()
    {
        var defaults = Floodgate.Configuration.ConfigLoader.Load(null, new Dictionary<string, string>());
        Assert.Contains("127.0.0.1:10040", defaults.PolicyEndpoints.Select(e => e.ToString()));
        Assert.Contains("inet:127.0.0.1:10040", PostfixInstance.Snippet("main.cf.rcpt"), StringComparison.Ordinal);
        Assert.Contains("inet:127.0.0.1:10040", PostfixInstance.Snippet("main.cf.end-of-data"), StringComparison.Ordinal);
    }
}
