using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Policy;

namespace Floodgate.Tests.Policy;

public class PolicyAnswersTests
{
    private static readonly LimitRule Hourly = new("hourly", Scope.Account, LimitUnit.Messages, 5, TimeSpan.FromHours(1), LimitAction.Defer);

    private static Decision Refusal(Verdict verdict, string identity) =>
        new(verdict, DecisionCause.LimitExceeded, Hourly, new Identity(Scope.Account, identity), 5, 1, 5);

    [Theory]
    [InlineData(Verdict.Defer, "DEFER_IF_PERMIT 4.7.1 over {hourly} {1h} for a@x.org {not a placeholder}")]
    [InlineData(Verdict.Hold, "HOLD held a@x.org")]
    [InlineData(Verdict.Reject, "550 5.7.1 no more from a@x.org per 1h")]
    public void Answers_FillTheConfiguredTexts(Verdict verdict, string expected)
    {
        var answers = new PolicyAnswers(new PolicyOptions
        {
            DeferText = "4.7.1 over {{rule}} {{window}} for {identity} {not a placeholder}",
            HoldText = "held {identity}",
            RejectText = "5.7.1 no more from {identity} per {window}",
        }, FailMode.Open);
        var buffer = new byte[answers.MaxAnswerBytes];

        var n = answers.Format(buffer, Refusal(verdict, "a@x.org"));

        Assert.Equal($"action={expected}\n\n", System.Text.Encoding.UTF8.GetString(buffer, 0, n));
        Assert.Equal(expected, answers.ActionFor(Refusal(verdict, "a@x.org")));
    }

    [Fact]
    public void Answers_AVeryLongIdentity_IsCutAndFitsTheBuffer()
    {
        var answers = new PolicyAnswers(new PolicyOptions(), FailMode.Open);
        var buffer = new byte[answers.MaxAnswerBytes];
        var n = answers.Format(buffer, Refusal(Verdict.Defer, new string('é', 5000)));
        Assert.True(n <= answers.MaxAnswerBytes);
        Assert.Contains(new string('é', 256) + ";", System.Text.Encoding.UTF8.GetString(buffer, 0, n), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DecisionCause.StoreUnavailable, "action=DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable\n\n")]
    [InlineData(DecisionCause.Failed, "action=DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable\n\n")]
    public void Answers_ShortConfiguredTexts_StillFitTheFailClosedAnswer(DecisionCause cause, string expected)
    {
        var answers = new PolicyAnswers(new PolicyOptions { DeferText = "4.7.1 slow", HoldText = "held", RejectText = "5.7.1 no" }, FailMode.Closed);
        var buffer = new byte[answers.MaxAnswerBytes];
        var n = answers.Format(buffer, new Decision(Verdict.Defer, cause));
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(buffer, 0, n));
    }

    [Fact]
    public void Answers_Accept_IsDunno()
    {
        var answers = new PolicyAnswers(new PolicyOptions(), FailMode.Closed);
        var buffer = new byte[answers.MaxAnswerBytes];
        Assert.Equal("action=DUNNO\n\n", System.Text.Encoding.UTF8.GetString(buffer, 0, answers.Format(buffer, new Decision(Verdict.Accept, DecisionCause.WithinLimits))));
        Assert.Equal("action=DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable\n\n", System.Text.Encoding.UTF8.GetString(answers.Failure));
    }
}
