// QualityGate.cs — measures the foundation model the way the paper measures Stable Diffusion before erasing:
// generations for fixed prompt lists and fixed seeds, judged by the concept classifier (top-1/top-5, the
// "SD-1.4 row" of Table 1), by its style head (style prompts), by CLIP score against real sprites' CLIP score,
// and by the Fréchet distance between judge features of generations and of real sprites ("FID in emoji space").
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record QualityGateOptions
{
    public int images_per_prompt { get; init; } = 4;        // seeds per prompt
    public int random_concepts { get; init; } = 200;        // size of the random concept sample
    public ulong seed { get; init; } = 2024;                // first seed; prompt p, image k uses seed + 1000·p + k
    public SamplingOptions sampling { get; init; } = new();
    public string template { get; init; } = "an emoji of {a} {concept}";   // the analogue of "Image of {class}"
}

/// <summary>Judge top-k, and CLIP zero-shot top-k over all concepts as a second opinion.</summary>
public sealed record GroupScore(string Group, int Prompts, int Images, double Top1, double Top5, double ClipTop1, double ClipTop5);

/// <summary>The judge on real sprites and on the same sprites passed through the autoencoder (encode → decode):
/// what a perfect diffusion model could at best score, since every generation is a decoder output.</summary>
public sealed record ReconstructionCeiling(int Images, double RealTop1, double RealTop5, double RealStyle,
    double ReconstructedTop1, double ReconstructedTop5, double ReconstructedStyle);

public sealed record QualityGateReport(
    IReadOnlyList<GroupScore> Groups,
    ReconstructionCeiling Ceiling,
    double StyleAccuracy, int StyleImages,
    double ClipScoreGenerated, double ClipScoreReal,
    double FrechetDistance, double FrechetDistanceRealSplit,
    QualityGateOptions Options, double Seconds);

/// <summary>Scores on the validation split (concepts and seeds outside the gate).</summary>
public sealed record ValidationReport(int Concepts, int Images, double Top1, double Top5, double Style, int StyleImages, QualityGateOptions Options, double Seconds);

public static class QualityGate
{
    public static string Prompt(QualityGateOptions o, string concept) =>
        o.template.Replace("{a}", Captions.Article(concept)).Replace("{concept}", concept);

    public static QualityGateReport Run(FoundationModel model, ConceptJudge judge, ClipModel clip, EmojiData data, QualityGateOptions o,
        TextWriter log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pipe = new StableDiffusionPipeline(model);
        var emojinette = ConceptSets.Load(ConceptSets.Emojinette).ConceptNames;
        var spectrum = ConceptSets.Load(ConceptSets.Spectrum).ConceptNames;
        var all = judge.config.concepts;
        var random = RandomConcepts(judge, o);
        var groups = new List<GroupScore>();
        using var conceptText = ConceptTextEmbeddings(clip, model.Prompts.Tokenizer, all, o);
        var genFeatures = new List<float>();
        var clipGen = new List<double>();
        var promptIndex = 0;

        GroupScore Score(string name, IReadOnlyList<string> concepts, bool keepFeatures)
        {
            int top1 = 0, top5 = 0, n = 0, clip1 = 0, clip5 = 0;
            foreach (var concept in concepts)
            {
                using var scope = NewDisposeScope();
                var images = Generate(pipe, Prompt(o, concept), o, promptIndex++);
                var verdict = judge.Judge(images);
                var label = judge.ConceptId(concept);
                var (h1, h5) = Hits(verdict, label);
                top1 += h1; top5 += h5; n += verdict.Count;
                var (c1, c5) = ClipZeroShot(clip, conceptText, images, label);
                clip1 += c1; clip5 += c5;
                if (keepFeatures)
                {
                    genFeatures.AddRange(verdict.Features);
                    clipGen.AddRange(ClipScores(clip, model.Prompts.Tokenizer, images, Prompt(o, concept)));
                }
            }
            var g = new GroupScore(name, concepts.Count, n, (double)top1 / n, (double)top5 / n, (double)clip1 / n, (double)clip5 / n);
            log.WriteLine($"  {name}: judge top-1 {g.Top1:P1}, top-5 {g.Top5:P1}; CLIP zero-shot top-1 {g.ClipTop1:P1}, top-5 {g.ClipTop5:P1} over {n} images ({clock.Elapsed.TotalSeconds:F0}s)");
            return g;
        }

        log.WriteLine($"quality gate: {o.images_per_prompt} images per prompt, {o.sampling.steps} DDIM steps, guidance {o.sampling.guidance_scale}");
        // real sprites of the random concepts, loaded and judged once: the ceiling, the CLIP score and the features
        var real = data.Images(random.Select(c => data.Index[c]).ToList(), EmojiStyle.Default);
        using var realImages = torch.tensor(real.Pixels, real.Shape);
        var realVerdict = judge.Judge(realImages);
        var ceiling = Ceiling(model, judge, real, realImages, realVerdict);
        log.WriteLine($"  ceiling ({ceiling.Images} real sprites of the random concepts): judge top-1 {ceiling.RealTop1:P1}, top-5 {ceiling.RealTop5:P1}, style {ceiling.RealStyle:P1}; " +
                      $"through the autoencoder: top-1 {ceiling.ReconstructedTop1:P1}, top-5 {ceiling.ReconstructedTop5:P1}, style {ceiling.ReconstructedStyle:P1}");
        groups.Add(Score("emojinette", emojinette, false));
        groups.Add(Score("spectrum", spectrum, false));
        groups.Add(Score($"random {random.Count}", random, true));

        // style prompts: each Emojinette concept in each style, judged by the style head
        var (styleOk, styleN) = StyleHits(judge, emojinette, prompt => Generate(pipe, prompt, o, promptIndex++));
        log.WriteLine($"  style prompts: {(double)styleOk / styleN:P1} rendered in the asked style");

        // real sprites of the same random concepts (loaded above): CLIP score and features
        var clipReal = new List<double>();
        for (var i = 0; i < real.Count; i++)
        {
            using var scope = NewDisposeScope();
            clipReal.AddRange(ClipScores(clip, model.Prompts.Tokenizer, realImages.narrow(0, i, 1), Prompt(o, real.Samples[i].Concept.Name)));
        }
        var d = realVerdict.FeatureWidth;
        var fid = Statistics.FrechetDistance(genFeatures.ToArray(), realVerdict.Features, d);
        // reference: the distance between two halves of the real sprites (what "different but both real" costs)
        var half = realVerdict.Features.Length / 2 / d * d;
        var fidReal = Statistics.FrechetDistance(realVerdict.Features.AsSpan(0, half), realVerdict.Features.AsSpan(half), d);
        log.WriteLine($"  CLIP score: generated {clipGen.Average():F2}, real {clipReal.Average():F2}; Fréchet distance (judge features) {fid:F2} (real vs real split: {fidReal:F2})");
        return new QualityGateReport(groups, ceiling, (double)styleOk / styleN, styleN, clipGen.Average(), clipReal.Average(), fid, fidReal, o, clock.Elapsed.TotalSeconds);
    }

    /// <summary>How many of a verdict's images have the label first, and among their top five.</summary>
    static (int top1, int top5) Hits(JudgeOutput verdict, long label)
    {
        int top1 = 0, top5 = 0;
        for (var k = 0; k < verdict.Count; k++)
        {
            if (verdict.Top1(k) == label) top1++;
            if (verdict.InTop(k, label, 5)) top5++;
        }
        return (top1, top5);
    }

    /// <summary>Style prompts "{concept}, {style} style" for every concept and style, generated by the callback and
    /// judged by the style head: (images in the asked style, images).</summary>
    static (int ok, int n) StyleHits(ConceptJudge judge, IEnumerable<string> concepts, Func<string, Tensor> generate)
    {
        int ok = 0, n = 0;
        foreach (var concept in concepts)
            foreach (var style in judge.config.styles)
            {
                using var scope = NewDisposeScope();
                var verdict = judge.Judge(generate($"{concept}, {style} style"));
                var want = Array.IndexOf(judge.config.styles, style);
                ok += verdict.Style.Count(s => s == want);
                n += verdict.Count;
            }
        return (ok, n);
    }

    /// <summary>The gate's random group: random_concepts of the judge's concepts in the order drawn from the seed.</summary>
    static List<string> RandomConcepts(ConceptJudge judge, QualityGateOptions o)
    {
        var rng = new Random((int)o.seed);
        return judge.config.concepts.OrderBy(_ => rng.Next()).Take(o.random_concepts).ToList();
    }

    /// <summary>The gate's own concepts: Emojinette, the spectrum list and the random sample drawn from its seed.</summary>
    public static HashSet<string> GateConcepts(ConceptJudge judge, QualityGateOptions o)
    {
        var set = RandomConcepts(judge, o).ToHashSet();
        set.UnionWith(ConceptSets.Load(ConceptSets.Emojinette).ConceptNames);
        set.UnionWith(ConceptSets.Load(ConceptSets.Spectrum).ConceptNames);
        return set;
    }

    /// <summary>count concepts outside every gate group, in a fixed random order (seed + 1).</summary>
    public static IReadOnlyList<string> ValidationConcepts(ConceptJudge judge, QualityGateOptions o, int count)
    {
        var gate = GateConcepts(judge, o);
        var rng = new Random((int)o.seed + 1);
        var chosen = judge.config.concepts.Where(c => !gate.Contains(c)).OrderBy(_ => rng.Next()).Take(count).ToList();
        if (chosen.Count < count) throw new ArgumentException($"only {chosen.Count} concepts lie outside the gate's groups (asked for {count})");
        return chosen;
    }

    /// <summary>A validation split for choosing checkpoints and the guidance scale without looking at the gate:
    /// concepts disjoint from every gate group, and seeds far from the gate's (seed + 10⁶ + 1000·p + k). Scores judge
    /// top-1/top-5 of "an emoji of a {concept}" and the style head on "{concept}, {style} style" for the first
    /// styleConcepts of them.</summary>
    public static ValidationReport Validate(FoundationModel model, ConceptJudge judge, QualityGateOptions o, int concepts, int styleConcepts, TextWriter log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pipe = new StableDiffusionPipeline(model);
        var chosen = ValidationConcepts(judge, o, concepts);
        var seed = o.seed + 1_000_000UL;
        int top1 = 0, top5 = 0, n = 0, p = 0;
        foreach (var concept in chosen)
        {
            using var scope = NewDisposeScope();
            var verdict = judge.Judge(Generate(pipe, pipe.Model.Unet, Prompt(o, concept), o.images_per_prompt, o.sampling, seed + 1000UL * (ulong)p++));
            var (h1, h5) = Hits(verdict, judge.ConceptId(concept));
            top1 += h1; top5 += h5; n += verdict.Count;
        }
        var (styleOk, styleN) = StyleHits(judge, chosen.Take(styleConcepts),
            prompt => Generate(pipe, pipe.Model.Unet, prompt, o.images_per_prompt, o.sampling, seed + 1000UL * (ulong)p++));
        var report = new ValidationReport(chosen.Count, n, (double)top1 / n, (double)top5 / n, styleN == 0 ? double.NaN : (double)styleOk / styleN, styleN,
            o, clock.Elapsed.TotalSeconds);
        log.WriteLine($"validation ({chosen.Count} concepts outside the gate, guidance {o.sampling.guidance_scale}): judge top-1 {report.Top1:P1}, top-5 {report.Top5:P1} " +
                      $"over {n} images; style {report.Style:P1} over {styleN}; {report.Seconds:F0}s");
        return report;
    }

    /// <summary>Judge scores of real sprites (with their verdict already computed), clean and after the
    /// autoencoder's round trip.</summary>
    public static ReconstructionCeiling Ceiling(FoundationModel model, ConceptJudge judge, EmojiImageSet real, Tensor images, JudgeOutput realVerdict)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (var i = 0; i < real.Count; i += 128)
            parts.Add(model.DecodeLatents(model.EncodeImages(images.narrow(0, i, Math.Min(128, real.Count - i)))));
        var reconstructed = torch.cat(parts, 0);
        var labels = real.Samples.Select(s => (long)judge.ConceptId(s.Concept.Name)).ToArray();
        var styles = real.Samples.Select(s => (long)Array.IndexOf(judge.config.styles, s.Style.Name)).ToArray();
        (double, double, double) Score(JudgeOutput v)
        {
            int t1 = 0, t5 = 0, st = 0;
            for (var k = 0; k < v.Count; k++)
            {
                if (v.Top1(k) == labels[k]) t1++;
                if (v.InTop(k, labels[k], 5)) t5++;
                if (v.Style[k] == styles[k]) st++;
            }
            return ((double)t1 / v.Count, (double)t5 / v.Count, (double)st / v.Count);
        }
        var (r1, r5, rs) = Score(realVerdict);
        var (c1, c5, cs) = Score(judge.Judge(reconstructed));
        return new ReconstructionCeiling(real.Count, r1, r5, rs, c1, c5, cs);
    }

    static Tensor Generate(StableDiffusionPipeline pipe, string prompt, QualityGateOptions o, int promptIndex) =>
        Generate(pipe, pipe.Model.Unet, prompt, o.images_per_prompt, o.sampling, o.seed + 1000UL * (ulong)promptIndex);

    /// <summary>n generations of one prompt with a given UNet; image k starts from the noise of seed + k, so two
    /// UNets (original and erased) are compared on the same noise.</summary>
    public static Tensor Generate(StableDiffusionPipeline pipe, Models.UNet2DConditionModel unet, string prompt, int n, SamplingOptions sampling, ulong seed)
    {
        using var scope = NewDisposeScope();
        var prompts = Enumerable.Repeat(prompt, n).ToList();
        var z = pipe.SeededNoise(n, seed);
        var model = pipe.Model;
        var cond = model.Prompts.Encode(prompts);
        var uncond = model.Prompts.Encode(Enumerable.Repeat("", prompts.Count).ToList());
        var z0 = pipe.Denoise(unet, z, cond, uncond, sampling, 0, sampling.steps);
        return model.DecodeLatents(z0).MoveToOuterDisposeScope();
    }

    /// <summary>Unit text embeddings (C, P) of the prompt template for every concept, in the judge's label order.</summary>
    static Tensor ConceptTextEmbeddings(ClipModel clip, WordTokenizer tokenizer, IReadOnlyList<string> concepts, QualityGateOptions o)
    {
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var i = 0; i < concepts.Count; i += 256)
        {
            var batch = new TokenBatch(concepts.Skip(i).Take(256).Select(c => tokenizer.Encode(Prompt(o, c))).ToList(), tokenizer.ContextLength);
            using var ids = torch.tensor(batch.Ids, batch.Shape);
            using var eos = torch.tensor(batch.Lengths.Select(l => l - 1).ToArray());
            parts.Add(clip.EmbedText(ids, eos));
        }
        var all = torch.cat(parts, 0).DetachFromDisposeScope();
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>How many images CLIP ranks the true concept first / in its top 5 among all concepts.</summary>
    static (int top1, int top5) ClipZeroShot(ClipModel clip, Tensor conceptText, Tensor images, long label)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (_, idx) = Guarded.matmul(clip.EmbedImage(images), conceptText.T).topk(5, 1);
        var ranks = idx.data<long>().ToArray();
        int t1 = 0, t5 = 0;
        for (var k = 0; k < ranks.Length / 5; k++)
        {
            if (ranks[k * 5] == label) t1++;
            if (ranks.Skip(k * 5).Take(5).Contains(label)) t5++;
        }
        return (t1, t5);
    }

    /// <summary>CLIP score 100·cos(image, text) per image, with the judge CLIP's own towers.</summary>
    public static double[] ClipScores(ClipModel clip, WordTokenizer tokenizer, Tensor images, string prompt)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var item = tokenizer.Encode(prompt);
        var ids = torch.tensor(item.Ids, [1, item.Ids.Length]);
        var eos = torch.tensor(new long[] { item.Length - 1 });
        var t = clip.EmbedText(ids, eos);
        var i = clip.EmbedImage(images);
        return (Guarded.matmul(i, t.T).squeeze(1) * 100.0).ToDoubles();
    }
}
