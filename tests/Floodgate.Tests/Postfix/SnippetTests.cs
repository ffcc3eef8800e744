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
        Assert.Contains("floodgate = check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }", PostfixInstance.Snippet("main.cf"), StringComparison.Ordinal);

        // The other stages ask through main.cf's restriction class: logins and trusted clients only, never inbound mail.
        foreach (var snippet in new[] { "main.cf", "main.cf.rcpt", "main.cf.end-of-data", "main.cf.unix-socket" })
        {
            Assert.Contains("check_sasl_access static:floodgate,", PostfixInstance.Snippet(snippet), StringComparison.Ordinal);
            Assert.Contains("check_client_access cidr:/etc/postfix/floodgate-clients.cidr", PostfixInstance.Snippet(snippet), StringComparison.Ordinal);
        }
    }
}
