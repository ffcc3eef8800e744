namespace Floodgate.Pipeline;

/// <summary>
/// What one connection (or one relay transaction) reuses across its decisions: each rule's counter after the last
/// decision and the buffer its answer is written into.
/// </summary>
public sealed class DecisionScratch(int rules, int maxAnswerBytes)
{
    private readonly byte[] _answer = new byte[maxAnswerBytes];
    private int _length;

    /// <summary>Each rule's counter after the last decision, -1 where the rule did not apply.</summary>
    public long[] Counts { get; } = new long[rules];

    /// <summary>
    /// The message's queue id as the protocol sent it (UTF-8), for a point that would rather not make a string of it
    /// per request: the pipeline makes one only when the message is refused or held.
    /// </summary>
    public ReadOnlyMemory<byte> QueueId { get; set; }

    /// <summary>The answer written for the last decision, in the enforcement point's protocol.</summary>
    public ReadOnlySpan<byte> Answer => _answer.AsSpan(0, _length);

    /// <summary>The answer as text (the relay's SMTP reply).</summary>
    public string AnswerText => System.Text.Encoding.UTF8.GetString(Answer);

    internal Span<byte> AnswerBuffer => _answer;

    internal void Answered(int length) => _length = length;
}
