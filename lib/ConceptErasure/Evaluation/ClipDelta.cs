// ClipDelta.cs — how much an erasure lowered the CLIP score of each concept's images: the measure of the paper's
// Fig. 1 and Fig. 3 (Bui et al., NeurIPS 2024, §3 "Impact of concept removal"; paper-notes §B):
//
//   δ(c) = CLIP(original images of c) − CLIP(erased images of c),      CLIP(x, p) = 100 · cos(E_img(x), E_txt(p))
//
// Image k of a concept starts from the same noise (seed + k) under both UNets, so the per-image differences are
// paired; δ is their mean, reported with a percentile-bootstrap 95 % interval over those pairs (Statistics.cs).
// A large δ means the erased model no longer draws what the prompt says. Generation is the cost (one image per
// seed and model); the original model's scores are computed once and reused for every erased model.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record ClipDeltaOptions
{
    public int images { get; init; } = 16;                     // seeds per concept (the paper: 200)
    public ulong seed { get; init; } = 9000;                    // first seed; concept i uses seed + 1000·i + k
    public SamplingOptions sampling { get; init; } = new();
    public string template { get; init; } = "an emoji of {a} {concept}";   // concepts are prompted, and scored, with it
}

/// <summary>A concept (or a neutral prompt) to score: its name in tables and the prompt it is drawn and scored with.</summary>
public sealed record ClipDeltaItem(string Name, string Prompt)
{
    /// <summary>A concept through the template; an entry without a concept (a neutral prompt) as its own prompt.</summary>
    public static ClipDeltaItem For(ConceptSetEntry entry, string template = "an emoji of {a} {concept}") =>
        entry.Concept is { } c ? Concept(c, template) : new ClipDeltaItem(entry.Prompt == "" ? "\"\"" : entry.Prompt, entry.Prompt);

    public static ClipDeltaItem Concept(string concept, string template = "an emoji of {a} {concept}") =>
        new(concept, template.Replace("{a}", Captions.Article(concept)).Replace("{concept}", concept));
}

/// <summary>Per-image scores of one model on one item (image k from seed + k): CLIP score, and — when a judge was given
/// and knows the item's concept — whether the judge's top-1 / top-5 name it (the PSR/ESR of those images).</summary>
public sealed record ClipScoreSet(ClipDeltaItem Item, ulong Seed, double[] Scores, bool[]? Top1 = null, bool[]? Top5 = null)
{
    public double? Top1Rate => Top1 is null ? null : Top1.Average(b => b ? 1.0 : 0.0);
    public double? Top5Rate => Top5 is null ? null : Top5.Average(b => b ? 1.0 : 0.0);
}

/// <summary>δ of one item: the two models' mean CLIP scores and the paired difference with its interval.</summary>
public sealed record ConceptClipDelta(string Concept, string Prompt, double Original, double Erased, Summary Delta);

public static class ClipDelta
{
    /// <summary>CLIP scores of <paramref name="unet"/>'s generations for every item (same seeds for every UNet); with a
    /// judge, also its top-1/top-5 verdict on the images of every item whose name is a concept it knows.</summary>
    public static IReadOnlyList<ClipScoreSet> Scores(FoundationModel model, UNet2DConditionModel unet, ClipModel clip,
        IReadOnlyList<ClipDeltaItem> items, ClipDeltaOptions? options = null, TextWriter? log = null, ConceptJudge? judge = null)
    {
        var o = options ?? new ClipDeltaOptions();
        if (o.images is < 1 or > ErasureEvaluation.MaxImagesPerConcept)
            throw new ArgumentException($"images per concept must lie in [1, {ErasureEvaluation.MaxImagesPerConcept}], got {o.images}");
        var pipe = new StableDiffusionPipeline(model);
        var result = new List<ClipScoreSet>();
        for (var i = 0; i < items.Count; i++)
        {
            var seed = o.seed + 1000UL * (ulong)i;
            var scores = new List<double>();
            var label = judge is not null && judge.config.concepts.Contains(items[i].Name) ? judge.ConceptId(items[i].Name) : -1;
            List<bool>? top1 = label >= 0 ? [] : null, top5 = label >= 0 ? [] : null;
            for (var start = 0; start < o.images; start += ErasureEvaluation.Chunk)
            {
                using var scope = NewDisposeScope();
                var n = Math.Min(ErasureEvaluation.Chunk, o.images - start);
                var images = QualityGate.Generate(pipe, unet, items[i].Prompt, n, o.sampling, seed + (ulong)start);   // (n, 3, H, W)
                scores.AddRange(QualityGate.ClipScores(clip, model.Prompts.Tokenizer, images, items[i].Prompt));
                if (label < 0) continue;
                var verdict = judge!.Judge(images);
                for (var k = 0; k < verdict.Count; k++) { top1!.Add(verdict.Top1(k) == label); top5!.Add(verdict.InTop(k, label, 5)); }
            }
            result.Add(new ClipScoreSet(items[i], seed, scores.ToArray(), top1?.ToArray(), top5?.ToArray()));
            log?.WriteLine($"  CLIP {items[i].Name}: {scores.Average():F2}");
        }
        return result;
    }

    /// <summary>δ per item from two score sets made with the same items, seeds and image counts.</summary>
    public static IReadOnlyList<ConceptClipDelta> Delta(IReadOnlyList<ClipScoreSet> original, IReadOnlyList<ClipScoreSet> erased)
    {
        if (original.Count != erased.Count) throw new ArgumentException($"{original.Count} original score sets against {erased.Count} erased");
        return original.Zip(erased, (a, b) =>
        {
            if (a.Item != b.Item || a.Seed != b.Seed || a.Scores.Length != b.Scores.Length)
                throw new ArgumentException($"score sets of '{a.Item.Name}' and '{b.Item.Name}' were not made on the same prompts and seeds");
            var diff = a.Scores.Zip(b.Scores, (x, y) => x - y).ToArray();
            return new ConceptClipDelta(a.Item.Name, a.Item.Prompt, a.Scores.Average(), b.Scores.Average(), Statistics.Summarize(diff));
        }).ToList();
    }

    /// <summary>The score sets of several runs made on the same items and seeds with their images pooled per item (the
    /// erasure seeds of one method as one sample of image pairs); every run must hold the same items in the same order.</summary>
    public static IReadOnlyList<ClipScoreSet> Pool(IReadOnlyList<IReadOnlyList<ClipScoreSet>> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to pool");
        if (runs.Any(r => r.Count != runs[0].Count || r.Zip(runs[0]).Any(p => p.First.Item != p.Second.Item || p.First.Seed != p.Second.Seed)))
            throw new ArgumentException("pooled runs must score the same items from the same seeds");
        static bool[]? Join(IEnumerable<bool[]?> f) { var l = f.ToList(); return l.Any(x => x is null) ? null : l.SelectMany(x => x!).ToArray(); }
        return Enumerable.Range(0, runs[0].Count).Select(i => new ClipScoreSet(runs[0][i].Item, runs[0][i].Seed,
            runs.SelectMany(r => r[i].Scores).ToArray(), Join(runs.Select(r => r[i].Top1)), Join(runs.Select(r => r[i].Top5)))).ToList();
    }

    /// <summary>Mean δ over a group of concepts (each concept weighs the same), with the image-resampling bootstrap
    /// interval of <see cref="GroupDifference"/>; Std is the bootstrap standard error.</summary>
    public static Summary GroupMean(IReadOnlyList<ClipScoreSet> original, IReadOnlyList<ClipScoreSet> erased,
        IReadOnlyCollection<string> group, int resamples = 10000, int seed = 0) =>
        GroupDifference(original, erased, group, [], resamples, seed);

    /// <summary>Mean δ of a group of concepts minus that of another (each concept's δ weighs the same), with a
    /// bootstrap interval that resamples the images of every concept (paired by seed; the concepts themselves are
    /// fixed) — "related concepts lose more than unrelated ones". Std is the bootstrap standard error.</summary>
    public static Summary GroupDifference(IReadOnlyList<ClipScoreSet> original, IReadOnlyList<ClipScoreSet> erased,
        IReadOnlyCollection<string> group, IReadOnlyCollection<string> others, int resamples = 10000, int seed = 0)
    {
        var diffs = original.Zip(erased, (a, b) => (a.Item.Name, d: a.Scores.Zip(b.Scores, (x, y) => x - y).ToArray())).ToList();
        var g = diffs.Where(x => group.Contains(x.Name)).Select(x => x.d).ToList();
        var r = diffs.Where(x => others.Contains(x.Name)).Select(x => x.d).ToList();
        if (g.Count == 0 || (r.Count == 0 && others.Count > 0)) throw new ArgumentException("each group needs at least one scored concept");
        static double MeanOfMeans(List<double[]> sets) => sets.Count == 0 ? 0 : sets.Average(s => s.Average());
        var point = MeanOfMeans(g) - MeanOfMeans(r);
        var rng = new Random(seed);
        double Resampled(List<double[]> sets) => sets.Count == 0 ? 0 : sets.Average(s => { double t = 0; for (var k = 0; k < s.Length; k++) t += s[rng.Next(s.Length)]; return t / s.Length; });
        var boots = new double[resamples];
        for (var i = 0; i < resamples; i++) boots[i] = Resampled(g) - Resampled(r);
        Array.Sort(boots);
        return new Summary(point, Statistics.Std(boots), boots[(int)(0.025 * (resamples - 1))], boots[(int)Math.Ceiling(0.975 * (resamples - 1))], g.Count + r.Count);
    }

    // ---- files: one row per image (what `workbook spectrum` writes and the notebooks read) -----------------------
    public const string CsvHeader = "name,prompt,seed,image,clip,judge_top1,judge_top5";

    public static string ToCsv(IReadOnlyList<ClipScoreSet> sets)
    {
        var sb = new System.Text.StringBuilder(CsvHeader + "\n");
        static string Flag(bool[]? f, int k) => f is null ? "" : f[k] ? "1" : "0";
        foreach (var s in sets)
            for (var k = 0; k < s.Scores.Length; k++)
                sb.Append(System.FormattableString.Invariant($"{Csv.Quote(s.Item.Name)},{Csv.Quote(s.Item.Prompt)},{s.Seed},{k},{s.Scores[k]:R},{Flag(s.Top1, k)},{Flag(s.Top5, k)}\n"));
        return sb.ToString();
    }

    /// <summary>Score sets from a file written by <see cref="ToCsv"/>, in file order.</summary>
    public static IReadOnlyList<ClipScoreSet> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != CsvHeader) throw new InvalidDataException($"{path}: not a CLIP score file (header '{CsvHeader}')");
        var sets = new List<ClipScoreSet>();
        foreach (var group in lines.Skip(1).Where(l => l.Length > 0).Select(l => Csv.Split(l)).GroupBy(f => (f[0], f[1], f[2])))
        {
            var rows = group.OrderBy(f => int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var scores = rows.Select(f => double.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            bool[]? Flags(int col) => rows[0][col] == "" ? null : rows.Select(f => f[col] == "1").ToArray();
            sets.Add(new ClipScoreSet(new ClipDeltaItem(group.Key.Item1, group.Key.Item2), ulong.Parse(group.Key.Item3, System.Globalization.CultureInfo.InvariantCulture), scores, Flags(5), Flags(6)));
        }
        return sets;
    }
}
