namespace Floodgate.Eval.Corpus;

/// <summary>A generated corpus: its options, its accounts and every message in submission order.</summary>
public sealed record GeneratedCorpus(CorpusOptions Options, IReadOnlyList<CorpusAccount> Accounts, IReadOnlyList<GeneratedMessage> Messages);
