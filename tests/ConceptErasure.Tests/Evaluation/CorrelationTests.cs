// Spearman's ρ on inputs whose answer is known: a monotone map gives 1 whatever its shape, a reversed one −1, ties take
// average ranks (checked against the textbook formula), and the bootstrap interval covers ρ and narrows with more data.
using ConceptErasure.Evaluation;

namespace ConceptErasure.Tests.Evaluation;

public class CorrelationTests
{
    [Fact]
    public void MonotoneMapsGiveOneAndReversedOnesMinusOne()
    {
        var x = Enumerable.Range(1, 20).Select(i => (double)i).ToArray();
        Assert.Equal(1.0, Correlation.Spearman(x, x.Select(v => Math.Exp(v / 3)).ToArray()), 12);
        Assert.Equal(-1.0, Correlation.Spearman(x, x.Select(v => -v * v * v).ToArray()), 12);
        Assert.True(double.IsNaN(Correlation.Spearman(x, x.Select(_ => 1.0).ToArray())));
    }

    [Fact]
    public void TiesTakeAverageRanks()
    {
        Assert.Equal(new[] { 1.0, 2.5, 2.5, 4.0 }, Correlation.Ranks([10, 20, 20, 30]));
        // without ties ρ = 1 − 6Σd²/(n(n²−1)): x ranks 1..5, y ranks 2,1,4,3,5 → Σd² = 4, ρ = 1 − 24/120 = 0.8
        Assert.Equal(0.8, Correlation.Spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 12);
    }

    [Fact]
    public void TheIntervalCoversTheEstimateAndNarrowsWithData()
    {
        var rng = new Random(3);
        double[] Noise(int n) => Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var (x1, e1) = (Noise(30), Noise(30));
        var small = Correlation.SpearmanWithInterval(x1, x1.Zip(e1, (a, b) => a + b).ToArray());
        var (x2, e2) = (Noise(600), Noise(600));
        var large = Correlation.SpearmanWithInterval(x2, x2.Zip(e2, (a, b) => a + b).ToArray());
        Assert.InRange(small.Mean, small.Low95, small.High95);
        Assert.InRange(large.Mean, large.Low95, large.High95);
        Assert.True(large.High95 - large.Low95 < small.High95 - small.Low95);
        Assert.InRange(large.Mean, 0.6, 0.8);   // x + U(0,1) noise with x ~ U(0,1): ρ ≈ 0.7
    }
}
