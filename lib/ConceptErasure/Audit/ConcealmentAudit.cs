// ConcealmentAudit.cs — one prompt's audit in "Unlearning or Concealment?" (Sharma et al., 2024, §4–5), put
// together from the three parts of this folder:
//   1. reference sets: λ_O = the original model's images of P, λ_U = the erased model's, from the same seeds;
//   2. the classifier "original or erased?" on the judge's features of λ_O ∪ λ_U (ConceptClassifier), its held-out
//      accuracy on 20 % of them; an audit whose classifier cannot separate the sides reports no scores;
//   3. the partial-diffusion attack at every ψ of the grid (PartialDiffusion), from seeds disjoint from the
//      references', and per ψ: S_O(ψ), S_U(ψ) on φ, P(original | λ_P(ψ)), KID(λ_P(ψ), λ_O) on the judge's
//      features, and the judge's top-1/top-5 for P's concept (a second, classifier-free witness of recovery);
//   4. CRS = mean_ψ |S_U(ψ) − S_O(ψ)| (1 − that for retain prompts) and CCS = mean_ψ P(original | λ_P(ψ)), both
//      over the paper's grid points strictly inside (0, 1): ψ = 0 (the erased model alone) and ψ = 1 (the original
//      alone) are drawn and reported as the two ends but are not part of the paper's averages.
using ConceptErasure.Data;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Audit;

public sealed record ConcealmentAuditOptions
{
    public PartialDiffusionOptions attack { get; init; } = new();   // ψ grid (with both ends), sampling, first seed of λ_P(ψ)
    public int attack_images { get; init; } = 8;                    // λ_P(ψ) per ψ (≥ 2: KID needs two)
    public int reference_images { get; init; } = 32;                // λ_O and λ_U each (the paper: 200 — what 2 cores allow)
    public ulong reference_seed { get; init; } = 9000;              // λ_O and λ_U share these seeds; disjoint from the attack's
    public string template { get; init; } = "an emoji of {a} {concept}";  // P for a concept, as the evaluation prompts
    public ConceptClassifierOptions classifier { get; init; } = new();

    public void Validate()
    {
        attack.Validate();
        classifier.Validate();
        if (attack_images < 2 || attack_images > 256) throw new ArgumentOutOfRangeException(nameof(attack_images), $"attack_images must be in [2, 256], got {attack_images}");
        if (reference_images < 5 || reference_images > 1024) throw new ArgumentOutOfRangeException(nameof(reference_images), $"reference_images must be in [5, 1024], got {reference_images}");
        if (!template.Contains("{concept}")) throw new ArgumentException("the prompt template must contain {concept}");
        // the attack must not re-draw the references' noise (the classifier was trained on those very images)
        var (a0, a1) = (attack.seed, attack.seed + (ulong)attack_images);
        var (r0, r1) = (reference_seed, reference_seed + (ulong)reference_images);
        if (a0 < r1 && r0 < a1) throw new ArgumentException($"the attack's seeds [{a0}, {a1}) overlap the references' [{r0}, {r1})");
        if (!attack.psi.Any(Scored)) throw new ArgumentException("the ψ grid has no point strictly inside (0, 1): CRS and CCS average over those");
    }

    public string Prompt(string concept) => template.Replace("{a}", Captions.Article(concept)).Replace("{concept}", concept);

    /// <summary>Whether a grid point enters CRS/CCS: the paper's points, strictly inside (0, 1).</summary>
    public static bool Scored(double psi) => psi > 0 && psi < 1;
}

/// <summary>What one ψ point measured. S_O/S_U/P(original) are NaN when the classifier could not separate the sides.</summary>
public sealed record PsiPoint(double Psi, double EffectivePsi, int HandOverStep, bool Scored,
    double SOriginal, double SErased, double POriginal, double Kid, double JudgeTop1, double JudgeTop5);

/// <summary>One prompt's audit. Crs/Ccs are null when the classifier's held-out accuracy is below the bar.</summary>
public sealed record PromptAudit(string Concept, string Prompt, PromptRole Role, ClassifierFit Fit, IReadOnlyList<PsiPoint> Points,
    double? Crs, double? Ccs, double ReferenceJudgeTop1Original, double ReferenceJudgeTop1Erased, double Seconds);

public static class ConcealmentAudit
{
    /// <summary>Audits one concept's prompt: <paramref name="original"/> against <paramref name="erased"/> (two UNets
    /// of <paramref name="pipe"/>'s model). <paramref name="attackImages"/>, when given, receives each ψ's images
    /// (n, 3, H, W) in [−1, 1] (the caller owns them); <paramref name="log"/> a line per stage.</summary>
    public static PromptAudit Run(StableDiffusionPipeline pipe, UNet2DConditionModel original, UNet2DConditionModel erased, ConceptJudge judge,
        string concept, PromptRole role, ConcealmentAuditOptions o, Action<double, Tensor>? attackImages = null, Action<string>? log = null,
        CancellationToken cancel = default, OriginalCache? cache = null)
    {
        o.Validate();
        var label = judge.ConceptId(concept);
        var prompt = o.Prompt(concept);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var s = o.attack.sampling;

        // 1. reference sets from the same seeds                                              // (n, 3, H, W)
        JudgeOutput refO, refU;
        using (NewDisposeScope())
        {
            refO = cache?.Get($"λ_O {prompt}", () => judge.Judge(QualityGate.Generate(pipe, original, prompt, o.reference_images, s, o.reference_seed)))
                   ?? judge.Judge(QualityGate.Generate(pipe, original, prompt, o.reference_images, s, o.reference_seed));
            cancel.ThrowIfCancellationRequested();
            refU = judge.Judge(QualityGate.Generate(pipe, erased, prompt, o.reference_images, s, o.reference_seed));
        }
        log?.Invoke($"{concept}: λ_O and λ_U ({o.reference_images} images each)");

        // 2. the classifier, and φ of the references
        var d = refO.FeatureWidth;
        var (classifier, fit) = ConceptClassifier.Train(refO.Features, refU.Features, d, o.classifier);
        using var _ = classifier;
        var (phiO, phiU) = (classifier.Embed(refO.Features), classifier.Embed(refU.Features));
        var e = o.classifier.embedding;
        log?.Invoke($"{concept}: classifier held-out accuracy {fit.HeldOutAccuracy:P0} ({fit.HeldOutCount} images){(fit.Separates ? "" : " — below the bar, no scores")}");

        // 3. the attack at every ψ
        // grid points with the same hand-over step k draw the same images (at 25 steps ψ = 0.001 and 0.01 are k = 0):
        // drawn once; k = S is the original model alone, which the cache may hold from another audit of this prompt
        var points = new List<PsiPoint>();
        var byStep = new Dictionary<int, (Tensor images, JudgeOutput judged)>();
        foreach (var psi in o.attack.psi)
        {
            cancel.ThrowIfCancellationRequested();
            var k = PartialDiffusion.HandOverStep(psi, s.steps);
            if (!byStep.TryGetValue(k, out var drawn))
            {
                (Tensor, JudgeOutput) Draw()
                {
                    using var scope = NewDisposeScope();
                    var x = PartialDiffusion.Attack(pipe, original, erased, prompt, o.attack_images, psi, s, o.attack.seed);
                    return (x.DetachFromDisposeScope(), judge.Judge(x));
                }
                drawn = k == s.steps && cache is not null ? cache.Get($"original alone {prompt}", Draw) : Draw();
                byStep[k] = drawn;
            }
            var (images, j) = drawn;
            attackImages?.Invoke(psi, images.detach().clone());
            double sO = double.NaN, sU = double.NaN, p = double.NaN;
            if (fit.Separates)
            {
                var phi = classifier.Embed(j.Features);
                (sO, sU) = (ConcealmentScores.SetSimilarity(phi, phiO, e), ConcealmentScores.SetSimilarity(phi, phiU, e));
                p = classifier.POriginal(j.Features).Average();
            }
            var top1 = Enumerable.Range(0, j.Count).Count(i => j.Top1(i) == label) / (double)j.Count;
            var top5 = Enumerable.Range(0, j.Count).Count(i => j.InTop(i, label, 5)) / (double)j.Count;
            points.Add(new PsiPoint(psi, PartialDiffusion.EffectivePsi(psi, s.steps), PartialDiffusion.HandOverStep(psi, s.steps),
                ConcealmentAuditOptions.Scored(psi), sO, sU, p, ConcealmentScores.Kid(j.Features, refO.Features, d), top1, top5));
            log?.Invoke(FormattableString.Invariant($"{concept}: ψ = {psi} (k = {points[^1].HandOverStep}) P(original) {(fit.Separates ? p.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "–")}, judge top-1 {top1:P0}"));
        }

        foreach (var (k, (x, _)) in byStep)
            if (!(k == s.steps && cache is not null)) x.Dispose();   // the cache keeps its own

        // 4. the scores over the paper's grid points
        var scored = points.Where(x => x.Scored).ToList();
        double? crs = fit.Separates ? ConcealmentScores.Crs(scored.Select(x => x.SOriginal).ToList(), scored.Select(x => x.SErased).ToList(), role) : null;
        double? ccs = fit.Separates ? ConcealmentScores.Ccs(scored.Select(x => x.POriginal).ToList()) : null;
        return new PromptAudit(concept, prompt, role, fit, points, crs, ccs, Top1(refO, label), Top1(refU, label), clock.Elapsed.TotalSeconds);
    }

    static double Top1(JudgeOutput j, long label) => Enumerable.Range(0, j.Count).Count(i => j.Top1(i) == label) / (double)j.Count;
}

/// <summary>What depends only on the original model and a prompt (λ_O, and the attack at ψ = 1, which is the original
/// alone): kept across the audits of several runs against ONE original model with ONE set of options, so each is drawn
/// once. The caller guarantees that; a cache must not be shared between originals or options.</summary>
public sealed class OriginalCache : IDisposable
{
    readonly Dictionary<string, object> entries = new();

    public T Get<T>(string key, Func<T> make) where T : notnull
    {
        if (entries.TryGetValue(key, out var v)) return (T)v;
        var made = make();
        entries[key] = made;
        return made;
    }

    public void Dispose()
    {
        foreach (var v in entries.Values)
            if (v is ValueTuple<Tensor, JudgeOutput> t) t.Item1.Dispose();
        entries.Clear();
    }
}
