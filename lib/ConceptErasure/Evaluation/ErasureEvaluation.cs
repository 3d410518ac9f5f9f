// ErasureEvaluation.cs — the paper's Table 1 metrics for one erased model, judged by the concept classifier on
// generations from fixed seeds (the same noise for the original and the erased UNet):
//   ESR-k = share of images of ERASED concepts whose label is NOT in the judge's top-k  (erasure success)
//   PSR-k = share of images of PRESERVED concepts whose label IS in the top-k          (preservation)
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record ErasureEvalOptions
{
    public int images_per_concept { get; init; } = 8;      // seeds per concept
    public ulong seed { get; init; } = 7000;                // evaluation seeds (never used for tuning)
    public SamplingOptions sampling { get; init; } = new();
    public string template { get; init; } = "an emoji of {a} {concept}";
}

/// <param name="Answers">the judge's top-1 labels for the concept's images, most frequent first (label → images)</param>
public sealed record ConceptScore(string Concept, string Role, int Images, double Top1, double Top5, IReadOnlyList<KeyValuePair<string, int>>? Answers = null)
{
    /// <summary>"european post office ×4, package ×2, …": what the judge saw instead (or too).</summary>
    public string AnswerSummary(int count = 3) => Answers is null ? "" :
        string.Join(", ", Answers.Take(count).Select(a => $"{a.Key} ×{a.Value}")) + (Answers.Count > count ? ", …" : "");
}

public sealed record ErasureScores(double Esr1, double Esr5, double Psr1, double Psr5, IReadOnlyList<ConceptScore> Concepts);

public static class ErasureEvaluation
{
    /// <summary>Images generated per UNet batch: memory stays flat however many images a concept gets, and up to this
    /// many the batch is exactly the one image set of the concept.</summary>
    public const int Chunk = 32;

    /// <summary>The most images per concept an evaluation accepts (more only costs time on a CPU).</summary>
    public const int MaxImagesPerConcept = 1000;

    /// <summary>Judges generations of each erased and preserved concept with the given UNet; stops between batches
    /// when <paramref name="cancel"/> is cancelled (OperationCanceledException).</summary>
    public static ErasureScores Score(FoundationModel model, UNet2DConditionModel unet, ConceptJudge judge, IReadOnlyList<string> erased,
        IReadOnlyList<string> preserved, ErasureEvalOptions o, TextWriter? log = null, CancellationToken cancel = default)
    {
        if (o.images_per_concept is < 1 or > MaxImagesPerConcept)
            throw new ArgumentException($"images per concept must lie in [1, {MaxImagesPerConcept}], got {o.images_per_concept}");
        var pipe = new StableDiffusionPipeline(model);
        var scores = new List<ConceptScore>();
        var i = 0;
        foreach (var (concept, role) in erased.Select(c => (c, "erased")).Concat(preserved.Select(c => (c, "preserved"))))
        {
            var prompt = o.template.Replace("{a}", Captions.Article(concept)).Replace("{concept}", concept);
            var label = judge.ConceptId(concept);
            var seed = o.seed + 1000UL * (ulong)i++;
            int top1 = 0, top5 = 0, n = 0;
            var answers = new Dictionary<string, int>();
            for (var start = 0; start < o.images_per_concept; start += Chunk)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var count = Math.Min(Chunk, o.images_per_concept - start);
                var images = QualityGate.Generate(pipe, unet, prompt, count, o.sampling, seed + (ulong)start);   // image k keeps seed + k
                var verdict = judge.Judge(images);
                for (var k = 0; k < verdict.Count; k++)
                {
                    if (verdict.Top1(k) == label) top1++;
                    if (verdict.InTop(k, label, 5)) top5++;
                    var said = judge.config.concepts[verdict.Top1(k)];
                    answers[said] = answers.GetValueOrDefault(said) + 1;
                }
                n += verdict.Count;
            }
            var ranked = answers.OrderByDescending(a => a.Value).ThenBy(a => a.Key, StringComparer.Ordinal).ToList();
            scores.Add(new ConceptScore(concept, role, n, (double)top1 / n, (double)top5 / n, ranked));
            log?.WriteLine($"  {role,-9} {concept}: top-1 {scores[^1].Top1:P0}, top-5 {scores[^1].Top5:P0}");
        }
        double Mean(string role, Func<ConceptScore, double> f) => scores.Where(s => s.Role == role).Select(f).DefaultIfEmpty(double.NaN).Average();
        return new ErasureScores(1 - Mean("erased", s => s.Top1), 1 - Mean("erased", s => s.Top5), Mean("preserved", s => s.Top1), Mean("preserved", s => s.Top5), scores);
    }
}
