// Statistics: bootstrap intervals, the symmetric eigen-solver, and the Fréchet distance against closed forms.
using ConceptErasure.Evaluation;

namespace ConceptErasure.Tests.Evaluation;

public class StatisticsTests
{
    [Fact]
    public void SummaryOfConstantHasZeroWidth()
    {
        var s = Statistics.Summarize([2.0, 2.0, 2.0]);
        Assert.Equal(2.0, s.Mean); Assert.Equal(0.0, s.Std); Assert.Equal(2.0, s.Low95); Assert.Equal(2.0, s.High95);
    }

    [Fact]
    public void BootstrapIntervalCoversTheMeanAndIsReproducible()
    {
        var xs = Enumerable.Range(0, 40).Select(i => Math.Sin(i) * 3 + 10).ToList();
        var a = Statistics.Summarize(xs, seed: 1);
        var b = Statistics.Summarize(xs, seed: 1);
        Assert.Equal(a, b);
        Assert.True(a.Low95 < a.Mean && a.Mean < a.High95);
        // width ≈ 2 · 1.96 · std/√n for a roughly normal mean
        var expected = 2 * 1.96 * a.Std / Math.Sqrt(xs.Count);
        Assert.InRange(a.High95 - a.Low95, 0.7 * expected, 1.3 * expected);
    }

    [Fact]
    public void EigenDecompositionReconstructsTheMatrix()
    {
        var rng = new Random(3);
        const int n = 7;
        var m = new double[n, n];
        for (var i = 0; i < n; i++) for (var j = 0; j <= i; j++) m[i, j] = m[j, i] = rng.NextDouble() - 0.5;
        var (vals, vecs) = Statistics.SymmetricEigen(m);
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double r = 0;
                for (var k = 0; k < n; k++) r += vecs[i, k] * vals[k] * vecs[j, k];
                Assert.Equal(m[i, j], r, 10);
            }
    }

    [Fact]
    public void FrechetDistanceMatchesTheDiagonalClosedForm()
    {
        // A: N(0, diag(1, 4)), B: N((1, 2), diag(4, 1)) ⇒ d² = 1 + 4 + (1 + 4 − 2·2) + (4 + 1 − 2·2) = 7
        double[] m1 = [0, 0], m2 = [1, 2];
        var s1 = new double[,] { { 1, 0 }, { 0, 4 } };
        var s2 = new double[,] { { 4, 0 }, { 0, 1 } };
        Assert.Equal(7.0, Statistics.FrechetDistance(m1, s1, m2, s2), 9);
        Assert.Equal(0.0, Statistics.FrechetDistance(m1, s1, m1, s1), 9);
    }

    [Fact]
    public void FrechetDistanceOfSamplesIsNearZeroForTheSameDistribution()
    {
        var rng = new Random(5);
        float[] Draw(int n) => Enumerable.Range(0, n * 3).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var same = Statistics.FrechetDistance(Draw(4000), Draw(4000), 3);
        var shifted = Statistics.FrechetDistance(Draw(4000), Draw(4000).Select(v => v + 1f).ToArray(), 3);
        Assert.True(same < 0.01, $"same distribution: {same}");
        Assert.InRange(shifted, 2.9, 3.1);   // ‖(1,1,1)‖² = 3
    }
}
