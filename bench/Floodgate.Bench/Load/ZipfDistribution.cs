namespace Floodgate.Bench.Load;

/// <summary>
/// A Zipf-like skew over <c>count</c> items: item k (0-based) is drawn with probability proportional to
/// 1/(k+1)^s, so a few heavy senders and a long tail of occasional ones, as on a real submission server.
/// </summary>
internal sealed class ZipfDistribution
{
    private readonly double[] _cumulative;

    public ZipfDistribution(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _cumulative = new double[count];
        var sum = 0.0;
        for (var k = 0; k < count; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cumulative[k] = sum;
        }

        for (var k = 0; k < count; k++)
        {
            _cumulative[k] /= sum;
        }
    }

    public int Count => _cumulative.Length;

    /// <summary>The share of all draws that goes to item <paramref name="k"/>.</summary>
    public double Probability(int k) => k == 0 ? _cumulative[0] : _cumulative[k] - _cumulative[k - 1];

    public int Sample(Random random)
    {
        var i = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(i >= 0 ? i : ~i, _cumulative.Length - 1);
    }
}
