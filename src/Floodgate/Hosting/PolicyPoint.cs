using Floodgate.Configuration;
using Floodgate.Pipeline;
using Floodgate.Policy;
using Floodgate.Quarantine;

namespace Floodgate.Hosting;

/// <summary>The policy service as an enforcement point: Postfix's answers, identity.trusted_networks, and Postfix's hold queue as its held mail.</summary>
public sealed class PolicyPoint(FloodgateOptions options, PostfixHeldMail holdQueue)
{
    public EnforcementPoint Point { get; } = new("policy", new PolicyAnswers(options.Policy, options.FailMode), options.TrustedNetworks, holdQueue);
}
