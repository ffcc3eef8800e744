using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Engine;

/// <summary>One account is one counter however its name is spelt, and a look-alike is not someone else.</summary>
public sealed class IdentityNormalizationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static DecisionEngine Build(long max)
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, max, TimeSpan.FromHours(1), LimitAction.Suspend)]);
        return new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
    }

    private static Decision Send(DecisionEngine engine, string account, int second) =>
        engine.DecideNow(new Submission(account, account, 1, 1000, "192.0.2.1", T0.AddSeconds(second)));

    [Fact]
    public void Account_SpellingsOfOneName_CountOnOneCounter()
    {
        string[] spellings =
        [
            "bob@example.com",
            "bob@example.com.",              // the root's trailing dot
            "Bob@Example.COM",
            "bob@example.com\t",             // a trailing tab
            " bob@example.com",
            "b\u200Bob@example.com",         // a zero-width space
            "\uFEFFbob@example.com",         // a byte order mark
            "bo\u200Db@exa\u2060mple.com",   // zero-width joiner, word joiner
        ];
        var engine = Build(spellings.Length);
        for (var i = 0; i < spellings.Length; i++)
        {
            Assert.Equal(Verdict.Accept, Send(engine, spellings[i], i).Verdict);
        }

        var over = Send(engine, "BOB@example.com.", spellings.Length);
        Assert.Equal(Verdict.Hold, over.Verdict);
        Assert.Equal(new Identity(Scope.Account, "bob@example.com"), over.Identity);
    }

    [Fact]
    public void Account_ComposedAndDecomposedForms_CountOnOneCounter()
    {
        var engine = Build(2);
        Send(engine, "jos\u00E9@example.com", 0);          // é precomposed (NFC)
        Send(engine, "jose\u0301@example.com", 1);         // e + combining acute (NFD)
        var over = Send(engine, "JOS\u00C9@example.com", 2);
        Assert.Equal(Verdict.Hold, over.Verdict);
        Assert.Equal(new Identity(Scope.Account, "jos\u00E9@example.com"), over.Identity);
    }

    [Fact]
    public void Account_WithTheKelvinSign_IsNotKate()
    {
        var engine = Build(1);
        Send(engine, "\u212Aate@example.com", 0);
        var flood = Send(engine, "\u212Aate@example.com", 1);
        Assert.Equal(Verdict.Hold, flood.Verdict);
        Assert.NotEqual("kate@example.com", flood.Identity?.Key);

        // The real kate was not suspended by the look-alike's flood.
        Assert.Equal(Verdict.Accept, Send(engine, "kate@example.com", 2).Verdict);
    }

    [Fact]
    public void Sender_SpellingsOfOneAddress_CountOnOneSenderCounter()
    {
        var rules = new RuleSet([new LimitRule("per-sender", Scope.Sender, LimitUnit.Messages, 2, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
        Assert.Equal(Verdict.Accept, engine.DecideNow(new Submission(null, "alice@example.com.", 1, 0, null, T0)).Verdict);
        Assert.Equal(Verdict.Accept, engine.DecideNow(new Submission(null, "ALICE@example.com\u200B", 1, 0, null, T0)).Verdict);
        Assert.Equal(Verdict.Defer, engine.DecideNow(new Submission(null, "alice@example.com", 1, 0, null, T0)).Verdict);
    }

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("192.0.2.1")]
    [InlineData("example.com")]
    public void Normalizer_AlreadyNormalAscii_ReturnsTheSameString(string key)
    {
        Assert.True(IdentityNormalizer.IsNormalAscii(key));
        Assert.Same(key, IdentityNormalizer.Normalize(key));
    }

    [Theory]
    [InlineData("Bob@Example.com.", "bob@example.com")]
    [InlineData("\tbob@example.com \u200B", "bob@example.com")]
    [InlineData("JOSE\u0301@example.com", "jos\u00E9@example.com")]
    [InlineData("\u212Aate@example.com", "\u212Aate@example.com")]
    [InlineData("\u212A\u0301ate@example.com", "\u212A\u0301ate@example.com")]
    [InlineData("\u0130stanbul@example.com", "\u0130stanbul@example.com")]
    [InlineData("\u00C5SA@example.com", "\u00E5sa@example.com")]
    public void Normalizer_GivesOneSpelling_AndNeverFoldsALookAlikeIntoAscii(string escapedKey, string escapedExpected)
    {
        var key = System.Text.RegularExpressions.Regex.Unescape(escapedKey);
        var expected = System.Text.RegularExpressions.Regex.Unescape(escapedExpected);
        var normal = IdentityNormalizer.Normalize(key);
        Assert.Equal(expected, normal);
        Assert.Equal(normal, IdentityNormalizer.Normalize(normal));
    }

    [Fact]
    public void IdentityKeys_OfANormalLogin_AllocateNothing()
    {
        var submission = new Submission("alice@example.com", "alice@example.com", 1, 1000, "192.0.2.1", T0);
        IdentityKeys.Of(submission, FallbackIdentity.Sender, withDomain: false);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            IdentityKeys.Of(submission, FallbackIdentity.Sender, withDomain: false);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
