// ImageMeasures.cs — what the eye sees in the paper's Fig. 4 (Bui et al., NeurIPS 2024, §4.1), as numbers: PGD's c_a
// "collapses to a background-like image that keeps the object's colour". On emoji (drawn on white) that splits into
//   ink(x)      = (1 − gray(x)) / 2 ∈ [0, 1] per pixel, gray = mean of the channels in [−1, 1]  (0 = white paper)
//   colour(x)   = Σ ink·rgb / Σ ink, rgb in [0, 1]          the mean colour of the drawing, weighted by its ink
//   shape(x, r) = Pearson r of ink(x) and ink(r) over pixels  how much x is drawn where the reference r is
// so "colour kept, shape lost" is a small colour distance to the c_e image with a falling shape correlation. And the
// judge's uncertainty: the entropy H = −Σ p log p (nats) of its softmax over all concepts (ln C when it has no idea).
// For the collapse of Appendix B.4 (erased concepts that all end up drawing the same image): the cosine similarity of
// the judge's pooled features of two images drawn from the same noise, and its mean over every pair of prompts.
using ConceptErasure.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

/// <summary>The judge's reading of one image: its top-1 concept, that concept's probability, and the entropy (nats).</summary>
public sealed record JudgeReading(string Label, double Probability, double Entropy);

public static class ImageMeasures
{
    /// <summary>Ink per pixel (B, H, W) of images (B, 3, H, W) in [−1, 1].</summary>
    public static Tensor Ink(Tensor images)
    {
        using var scope = NewDisposeScope();
        return ((1 - images.mean([1])) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Total ink of each image as a share of its pixels (0 = blank white).</summary>
    public static double[] InkShare(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Ink(images).mean([1, 2]).ToDoubles();
    }

    /// <summary>The ink-weighted mean colour (B, 3) in [0, 1] of each image; white where an image has no ink at all.</summary>
    public static double[][] Colour(Tensor images)
    {
        using var scope = NewDisposeScope();
        var ink = Ink(images).unsqueeze(1);                                         // (B, 1, H, W)
        var rgb = (images + 1) / 2;                                                 // (B, 3, H, W)
        var total = ink.sum([2, 3]);                                                // (B, 1)
        var mean = ((rgb * ink).sum([2, 3]) / total.clamp_min(1e-8)).where(total > 1e-8, torch.ones_like(rgb.sum([2, 3])));
        var flat = mean.ToDoubles();
        return Enumerable.Range(0, (int)images.size(0)).Select(b => flat.Skip(3 * b).Take(3).ToArray()).ToArray();
    }

    /// <summary>Euclidean distance between two colours of <see cref="Colour"/> (0 … √3).</summary>
    public static double ColourDistance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    /// <summary>Pearson correlation of each image's ink with the reference image of the same index (both (B, 3, H, W));
    /// NaN where either ink map is constant (e.g. a blank image).</summary>
    public static double[] ShapeCorrelation(Tensor images, Tensor references)
    {
        if (!images.shape.SequenceEqual(references.shape)) throw new ArgumentException($"images {string.Join("×", images.shape)} vs references {string.Join("×", references.shape)}");
        using var scope = NewDisposeScope();
        var a = Ink(images).flatten(1).to(ScalarType.Float64);
        var b = Ink(references).flatten(1).to(ScalarType.Float64);
        a -= a.mean([1], keepdim: true);
        b -= b.mean([1], keepdim: true);
        var den = (a.pow(2).sum([1]) * b.pow(2).sum([1])).sqrt();
        var r = (a * b).sum([1]) / den;
        return r.where(den > 1e-12, torch.full_like(r, double.NaN)).ToDoubles();
    }

    /// <summary>The judge's top-1 concept, its probability and the prediction's entropy, per image.</summary>
    public static IReadOnlyList<JudgeReading> Read(ConceptJudge judge, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (logits, _, _) = judge.forward(images);
        var logp = logits.to(ScalarType.Float64).log_softmax(1);                     // (B, C)
        var entropy = -(logp.exp() * logp).sum([1]);
        var (p, idx) = logp.exp().max(1);
        var (e, pp, ii) = (entropy.ToDoubles(), p.ToDoubles(), idx.data<long>().ToArray());
        return Enumerable.Range(0, ii.Length).Select(k => new JudgeReading(judge.config.concepts[ii[k]], pp[k], e[k])).ToList();
    }

    /// <summary>cos(f(a_k), f(b_k)) of the judge's features for each image pair k of two equally long batches.</summary>
    public static double[] FeatureCosine(ConceptJudge judge, Tensor a, Tensor b)
    {
        if (a.size(0) != b.size(0)) throw new ArgumentException($"{a.size(0)} images against {b.size(0)}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var fa = judge.forward(a).features.to(ScalarType.Float64);
        var fb = judge.forward(b).features.to(ScalarType.Float64);
        return nn.functional.cosine_similarity(fa, fb, 1).ToDoubles();
    }

    /// <summary>Mean of <see cref="FeatureCosine"/> over every pair (i &lt; j) of prompts' image batches drawn from the same
    /// noises: 1 when all the prompts draw the same image. Needs at least two batches.</summary>
    public static double MeanPairwiseSimilarity(ConceptJudge judge, IReadOnlyList<Tensor> batches)
    {
        if (batches.Count < 2) throw new ArgumentException("pairwise similarity needs at least two prompts");
        var all = new List<double>();
        for (var i = 0; i < batches.Count; i++)
            for (var j = i + 1; j < batches.Count; j++) all.AddRange(FeatureCosine(judge, batches[i], batches[j]));
        return all.Average();
    }
}
