namespace Floodgate.Eval.Corpus;

/// <summary>Makes a labelled corpus from its options: the same options give the same accounts and messages, in the same order.</summary>
public static class CorpusGenerator
{
    public static GeneratedCorpus Generate(CorpusOptions options)
    {
        if (options.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var plan = new CorpusPlan(options);
        var perAccount = new List<GeneratedMessage>[plan.Accounts.Count];

        // Accounts draw from generators of their own, so making them in parallel changes nothing.
        Parallel.For(0, perAccount.Length, i => perAccount[i] = new TrafficModel(plan, i).Generate());
        var messages = perAccount.SelectMany(m => m).ToArray();
        Array.Sort(messages, (a, b) =>
        {
            var byTime = a.Time.CompareTo(b.Time);
            return byTime != 0 ? byTime : a.Account != b.Account ? a.Account.CompareTo(b.Account) : a.Sequence.CompareTo(b.Sequence);
        });
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i].QueueId = QueueIds.Of(i);
        }

        return new GeneratedCorpus(options, plan.Accounts, messages);
    }
}
