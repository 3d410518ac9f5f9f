// The concealment scores (Audit/ConcealmentScores.cs) against hand computations on tiny fixed inputs: s(a, b) at
// cos = 1, 0, −1; S_X over all pairs; CRS for forget and retain prompts; CCS; KID against its definition and its
// zero for identical distributions' expectation; and the refusals.
using ConceptErasure.Audit;

namespace ConceptErasure.Tests.Audit;

public class ConcealmentScoresTests
{
    const double Tol = 1e-12;   // computed in double from exactly representable float inputs

    [Fact]
    public void Similarity_is_one_minus_arctan_of_the_cosine_over_half_pi()
    {
        Assert.Equal((1 - Math.PI / 4) / (Math.PI / 2), ConcealmentScores.Similarity([1, 0], [2, 0]), Tol);   // cos 1
        Assert.Equal(1 / (Math.PI / 2), ConcealmentScores.Similarity([1, 0], [0, 3]), Tol);                   // cos 0
        Assert.Equal((1 + Math.PI / 4) / (Math.PI / 2), ConcealmentScores.Similarity([1, 1], [-1, -1]), Tol); // cos −1
        Assert.Equal((1 - Math.Atan(0.8)) / (Math.PI / 2), ConcealmentScores.Similarity([3, 4], [0, 1]), Tol); // cos 4/5
    }

    [Fact]
    public void Set_similarity_averages_every_pair()
    {
        float[] attack = [1, 0, 0, 1];            // two rows: e1, e2
        float[] reference = [1, 0, 1, 1, -1, 0];  // three rows: e1, (1,1), −e1
        double S(double cos) => (1 - Math.Atan(cos)) / (Math.PI / 2);
        var r = Math.Sqrt(0.5);
        var expected = (S(1) + S(r) + S(-1) + S(0) + S(r) + S(0)) / 6;
        Assert.Equal(expected, ConcealmentScores.SetSimilarity(attack, reference, 2), Tol);
    }

    [Fact]
    public void Crs_and_ccs_are_plain_means_over_the_psi_points()
    {
        double[] sO = [0.5, 0.6, 0.9], sU = [0.7, 0.6, 0.4];
        Assert.Equal((0.2 + 0 + 0.5) / 3, ConcealmentScores.Crs(sO, sU, PromptRole.Forget), Tol);
        Assert.Equal(1 - (0.2 + 0 + 0.5) / 3, ConcealmentScores.Crs(sO, sU, PromptRole.Retain), Tol);
        Assert.Equal((0.01 + 0.02 + 0.99 + 1.0) / 4, ConcealmentScores.Ccs([0.01, 0.02, 0.99, 1.0]), Tol);
    }

    [Fact]
    public void Kid_is_the_unbiased_mmd_with_the_cubic_kernel()
    {
        float[] x = [0, 1, 1, 0, 1, 1];   // three rows of width 2
        float[] y = [2, 0, 0, 0];         // two rows
        double K(double[] a, double[] b) => Math.Pow((a[0] * b[0] + a[1] * b[1]) / 2 + 1, 3);
        double[][] X = [[0, 1], [1, 0], [1, 1]], Y = [[2, 0], [0, 0]];
        double kxx = 0, kyy = 0, kxy = 0;
        for (var i = 0; i < 3; i++) for (var j = 0; j < 3; j++) if (i != j) kxx += K(X[i], X[j]);
        kyy = 2 * K(Y[0], Y[1]);
        for (var i = 0; i < 3; i++) for (var j = 0; j < 2; j++) kxy += K(X[i], Y[j]);
        var expected = kxx / 6 + kyy / 2 - 2 * kxy / 6;
        Assert.Equal(expected, ConcealmentScores.Kid(x, y, 2), Tol);
        Assert.True(ConcealmentScores.Kid(y, y, 2) < ConcealmentScores.Kid(x, y, 2));
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ConcealmentScores.Similarity([1, 0], [1, 0, 0]));
        Assert.Throws<ArgumentException>(() => ConcealmentScores.Similarity([0, 0], [1, 0]));
        Assert.Throws<ArgumentException>(() => ConcealmentScores.SetSimilarity([1, 0, 1], [1, 0], 2));
        Assert.Throws<ArgumentException>(() => ConcealmentScores.Crs([0.1], [0.1, 0.2], PromptRole.Forget));
        Assert.Throws<ArgumentException>(() => ConcealmentScores.Ccs([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConcealmentScores.Ccs([0.5, 1.2]));
        Assert.Throws<ArgumentException>(() => ConcealmentScores.Kid([1, 0], [1, 0, 0, 1], 2));
    }
}
