// Statistics.cs — the numbers every result is reported with: mean ± standard deviation and a percentile
// bootstrap 95% confidence interval (Efron & Tibshirani 1993) over seeds or splits, from a seeded resampler so
// the interval itself is reproducible; Spearman's rank correlation with such an interval; and the Fréchet distance between two Gaussian fits of feature sets
// (Heusel et al. 2017): d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
namespace ConceptErasure.Evaluation;

public sealed record Summary(double Mean, double Std, double Low95, double High95, int N)
{
    public override string ToString() => N > 1
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean:F3} ± {Std:F3} [{Low95:F3}, {High95:F3}]")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean:F3}");
}

public static class Statistics
{
    public static double Mean(IReadOnlyList<double> xs) => xs.Count == 0 ? double.NaN : xs.Average();

    /// <summary>Sample standard deviation (n − 1).</summary>
    public static double Std(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2) return 0;
        var m = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - m) * (x - m)) / (xs.Count - 1));
    }

    /// <summary>Mean, std and the percentile-bootstrap 95% interval of the mean (resamples, fixed seed).</summary>
    public static Summary Summarize(IReadOnlyList<double> xs, int resamples = 10000, int seed = 0)
    {
        if (xs.Count == 0) throw new ArgumentException("no values to summarise");
        var mean = Mean(xs);
        if (xs.Count == 1) return new Summary(mean, 0, mean, mean, 1);
        var rng = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            double s = 0;
            for (var i = 0; i < xs.Count; i++) s += xs[rng.Next(xs.Count)];
            means[r] = s / xs.Count;
        }
        Array.Sort(means);
        return new Summary(mean, Std(xs), means[(int)(0.025 * (resamples - 1))], means[(int)Math.Ceiling(0.975 * (resamples - 1))], xs.Count);
    }

    // ---- Fréchet distance ------------------------------------------------------------------------------------
    /// <summary>Mean and covariance (n − 1) of row vectors stored row-major in <paramref name="x"/> (n × d).</summary>
    public static (double[] mean, double[,] cov) MeanCov(ReadOnlySpan<float> x, int d)
    {
        var n = x.Length / d;
        if (n < 2) throw new ArgumentException("need at least two feature vectors");
        var mean = new double[d];
        for (var i = 0; i < n; i++) for (var j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (var j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d, d];
        var row = new double[d];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
            for (var a = 0; a < d; a++)
            {
                var ra = row[a];
                for (var b = a; b < d; b++) cov[a, b] += ra * row[b];
            }
        }
        for (var a = 0; a < d; a++) for (var b = a; b < d; b++) { cov[a, b] /= n - 1; cov[b, a] = cov[a, b]; }
        return (mean, cov);
    }

    public static double FrechetDistance(ReadOnlySpan<float> featuresA, ReadOnlySpan<float> featuresB, int d)
    {
        var (m1, s1) = MeanCov(featuresA, d);
        var (m2, s2) = MeanCov(featuresB, d);
        return FrechetDistance(m1, s1, m2, s2);
    }

    public static double FrechetDistance(double[] m1, double[,] s1, double[] m2, double[,] s2)
    {
        var d = m1.Length;
        double diff = 0;
        for (var i = 0; i < d; i++) diff += (m1[i] - m2[i]) * (m1[i] - m2[i]);
        var root1 = SqrtPsd(s1);
        var inner = Multiply(Multiply(root1, s2), root1);       // Σ₁^½ Σ₂ Σ₁^½ (symmetric PSD)
        var (vals, _) = SymmetricEigen(inner);
        var trSqrt = vals.Sum(v => Math.Sqrt(Math.Max(0, v)));
        double tr1 = 0, tr2 = 0;
        for (var i = 0; i < d; i++) { tr1 += s1[i, i]; tr2 += s2[i, i]; }
        return diff + tr1 + tr2 - 2 * trSqrt;
    }

    static double[,] SqrtPsd(double[,] a)
    {
        var (vals, vecs) = SymmetricEigen(a);
        var d = vals.Length;
        var r = new double[d, d];
        for (var k = 0; k < d; k++)
        {
            var s = Math.Sqrt(Math.Max(0, vals[k]));
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) r[i, j] += vecs[i, k] * s * vecs[j, k];
        }
        return r;
    }

    static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = b.GetLength(1), k = a.GetLength(1);
        var r = new double[n, m];
        for (var i = 0; i < n; i++)
            for (var p = 0; p < k; p++)
            {
                var aip = a[i, p];
                if (aip == 0) continue;
                for (var j = 0; j < m; j++) r[i, j] += aip * b[p, j];
            }
        return r;
    }

    /// <summary>Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: values and column eigenvectors.</summary>
    public static (double[] values, double[,] vectors) SymmetricEigen(double[,] input)
    {
        var n = input.GetLength(0);
        var a = (double[,])input.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++) v[i, i] = 1;
        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (var p = 0; p < n; p++) for (var q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off < 1e-22) break;
            for (var p = 0; p < n; p++)
                for (var q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    var c = 1 / Math.Sqrt(t * t + 1);
                    var s = t * c;
                    for (var k = 0; k < n; k++)
                    {
                        var akp = a[k, p]; var akq = a[k, q];
                        a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq;
                    }
                    for (var k = 0; k < n; k++)
                    {
                        var apk = a[p, k]; var aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk;
                    }
                    for (var k = 0; k < n; k++)
                    {
                        var vkp = v[k, p]; var vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = a[i, i];
        return (values, v);
    }
}

// ---- rank correlation ------------------------------------------------------------------------------------------------
// For claims such as "embedding similarity does not predict how much erasure damages a concept" (the paper's Appendix
// B.5): Spearman's ρ (Spearman 1904), the Pearson correlation of the ranks, ties given their average rank, with a
// percentile-bootstrap 95 % interval (pairs resampled together, from a seeded resampler).
public static class Correlation
{
    /// <summary>Ranks 1…n, ties sharing the mean of the ranks they span.</summary>
    public static double[] Ranks(IReadOnlyList<double> xs)
    {
        var order = Enumerable.Range(0, xs.Count).OrderBy(i => xs[i]).ToArray();
        var ranks = new double[xs.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && xs[order[j + 1]] == xs[order[i]]) j++;
            var mean = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++) ranks[order[k]] = mean;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Pearson's r; NaN when either side is constant.</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"correlation of {x.Count} against {y.Count} values");
        if (x.Count < 2) return double.NaN;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Count; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Spearman's ρ: Pearson's r of the (tie-averaged) ranks.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>ρ with the percentile-bootstrap 95 % interval over resampled pairs (resamples whose ρ is undefined are
    /// left out).</summary>
    public static Summary SpearmanWithInterval(IReadOnlyList<double> x, IReadOnlyList<double> y, int resamples = 2000, int seed = 0)
    {
        var rho = Spearman(x, y);
        var rng = new Random(seed);
        var n = x.Count;
        var values = new List<double>(resamples);
        var (bx, by) = (new double[n], new double[n]);
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < n; i++) { var k = rng.Next(n); bx[i] = x[k]; by[i] = y[k]; }
            var v = Spearman(bx, by);
            if (double.IsFinite(v)) values.Add(v);
        }
        values.Sort();
        if (values.Count == 0) return new Summary(rho, 0, double.NaN, double.NaN, n);
        return new Summary(rho, Statistics.Std(values), values[(int)(0.025 * (values.Count - 1))], values[(int)Math.Ceiling(0.975 * (values.Count - 1))], n);
    }
}
