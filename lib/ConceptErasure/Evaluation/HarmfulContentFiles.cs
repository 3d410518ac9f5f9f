// HarmfulContentFiles.cs — one model's harmful-content scores on disk (what `workbook harmful` writes per model and the
// notebooks read back), and the task's summary tables over several models (HarmfulContent.cs holds the measures):
//   detection.csv        one row per detection image: prompt index, kind, weapon asked for, prompt, image, seed,
//                        the most probable weapon in the judge's top five and its probability
//   preservation.csv     one row per preservation image: concept, seed, CLIP score, judge top-1 hit, weapon, probability
//   features.safetensors the preservation images' judge features, "features" (N, width) float32
// Every file is written atomically; reading checks the headers and that the three files agree.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ConceptErasure.Data;

namespace ConceptErasure.Evaluation;

/// <summary>One model's row of the summary tables (differences are to the original model, paired).</summary>
public sealed record HarmfulSummary(string Model, IReadOnlyList<(double threshold, Summary rate, Summary? difference)> Detection,
    IReadOnlyList<int[]> PerClass, Summary Clip, Summary? ClipDifference, Summary PreservedTop1, Summary FalseAlarms,
    Summary FrechetToReal, Summary? FrechetToRealDifference, Summary? FrechetToOriginal);

public static class HarmfulContentFiles
{
    public const string DetectionFile = "detection.csv", PreservationFile = "preservation.csv", FeaturesFile = "features.safetensors";
    const string DetectionHeader = "prompt,kind,weapon,text,image,seed,detected,probability";
    const string PreservationHeader = "concept,seed,clip,judge_top1,weapon,weapon_probability";
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Save(string folder, HarmfulScores s, HarmfulEvalOptions o)
    {
        Directory.CreateDirectory(folder);
        var d = new StringBuilder(DetectionHeader + "\n");
        foreach (var x in s.Detection)
        {
            var p = s.Prompts[x.Prompt];
            d.Append(FormattableString.Invariant($"{x.Prompt},{Csv.Quote(p.Kind)},{Csv.Quote(p.Weapon)},{Csv.Quote(p.Prompt)},{x.Image},{o.seed + 1000UL * (ulong)x.Prompt + (ulong)x.Image},{Csv.Quote(x.Weapon)},{x.Probability:R}\n"));
        }
        var k = new StringBuilder(PreservationHeader + "\n");
        foreach (var x in s.Preservation)
            k.Append(FormattableString.Invariant($"{Csv.Quote(x.Concept)},{x.Seed},{x.Clip:R},{(x.Top1 ? 1 : 0)},{Csv.Quote(x.Weapon)},{x.WeaponProbability:R}\n"));
        var bytes = MemoryMarshal.AsBytes(s.Features.AsSpan()).ToArray();
        Safetensors.Write(Path.Combine(folder, FeaturesFile), [new SafetensorsEntry("features", SafetensorsDType.F32, [s.Preservation.Count, s.FeatureWidth], bytes)],
            new Dictionary<string, string> { ["model"] = s.Model });
        AtomicFile.WriteAllText(Path.Combine(folder, PreservationFile), k.ToString());
        AtomicFile.WriteAllText(Path.Combine(folder, DetectionFile), d.ToString());   // last: its presence marks a complete folder
    }

    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, DetectionFile));

    public static HarmfulScores Load(string folder, string? name = null)
    {
        string[] Lines(string file, string header)
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {file} (a folder written by `workbook harmful` holds it)", path);
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0 || lines[0] != header) throw new InvalidDataException($"{path}: not a harmful-content score file (header '{header}')");
            return lines.Skip(1).Where(l => l.Length > 0).ToArray();
        }
        var prompts = new List<HarmPrompt>();
        var detection = new List<DetectionImage>();
        foreach (var f in Lines(DetectionFile, DetectionHeader).Select(Csv.Split))
        {
            var p = int.Parse(f[0], Inv);
            if (p == prompts.Count) prompts.Add(new HarmPrompt(f[1], f[2], f[3]));
            else if (p > prompts.Count) throw new InvalidDataException($"{folder}/{DetectionFile}: prompt {p} before prompt {prompts.Count}");
            detection.Add(new DetectionImage(p, int.Parse(f[4], Inv), f[6], double.Parse(f[7], Inv)));
        }
        var preservation = Lines(PreservationFile, PreservationHeader).Select(Csv.Split)
            .Select(f => new PreservationImage(f[0], ulong.Parse(f[1], Inv), double.Parse(f[2], Inv), f[3] == "1", f[4], double.Parse(f[5], Inv))).ToList();
        var st = Safetensors.Read(Path.Combine(folder, FeaturesFile));
        var e = st["features"];
        if (e.DType != SafetensorsDType.F32 || e.Shape.Length != 2 || e.Shape[0] != preservation.Count)
            throw new InvalidDataException($"{folder}/{FeaturesFile}: features of shape [{string.Join(", ", e.Shape)}] for {preservation.Count} preservation images");
        var features = MemoryMarshal.Cast<byte, float>(e.Data.Span).ToArray();
        return new HarmfulScores(name ?? (st.Metadata.TryGetValue("model", out var m) ? m : Path.GetFileName(folder)), prompts, detection, preservation, features, (int)e.Shape[1]);
    }

    /// <summary>The summary rows: the original model first, then each model against it; the Fréchet distances to the
    /// real sprites of the preservation concepts (<paramref name="real"/>: concept i's sprite features, one row per style).</summary>
    public static IReadOnlyList<HarmfulSummary> Summaries(HarmfulScores original, IReadOnlyList<HarmfulScores> models, IReadOnlyList<float[][]> real,
        IReadOnlyList<string> weapons, HarmfulEvalOptions o)
    {
        float[][][] Rows(HarmfulScores s) => Enumerable.Range(0, s.Preservation.Count).Select(i => new[] { s.FeatureRow(i) }).ToArray();
        var all = new[] { original }.Concat(models).ToList();
        // pairs: 0 = original–real, then per model (model–real, model–original)
        var pairs = new List<(IReadOnlyList<float[][]>, IReadOnlyList<float[][]>)> { (Rows(original), real) };
        foreach (var m in models) { pairs.Add((Rows(m), real)); pairs.Add((Rows(m), Rows(original))); }
        var diffs = models.Select((_, i) => (1 + 2 * i, 0)).ToList();
        var (fd, fdDiff) = HarmfulContent.Frechet(pairs, original.FeatureWidth, diffs, o.frechet_resamples);
        return all.Select((s, i) => new HarmfulSummary(s.Model,
            o.thresholds.Select(t => (t, s.DetectionRate(t), i == 0 ? (Summary?)null : s.DetectionDifference(original, t))).ToList(),
            o.thresholds.Select(t => s.Detections(weapons, t)).ToList(),
            s.Clip, i == 0 ? null : s.ClipDifference(original), s.PreservedTop1, s.FalseAlarms(0.5),
            i == 0 ? fd[0] : fd[2 * i - 1], i == 0 ? null : fdDiff[i - 1], i == 0 ? null : fd[2 * i])).ToList();
    }

    static string Pct(Summary s) => FormattableString.Invariant($"{100 * s.Mean:F1} [{100 * s.Low95:F1}, {100 * s.High95:F1}]");
    static string Num(Summary s, string f = "F2") => string.Format(Inv, $"{{0:{f}}} [{{1:{f}}}, {{2:{f}}}]", s.Mean, s.Low95, s.High95);

    /// <summary>The three tables in Markdown: detection rates per threshold, detections per weapon class, preservation.</summary>
    public static string Markdown(IReadOnlyList<HarmfulSummary> rows, IReadOnlyList<string> weapons, HarmfulEvalOptions o, int prompts, int images)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Detection rate, % of {images} images of {prompts} prompts flagged (a weapon among the judge's top five with probability ≥ τ; 95 % CI over prompts; Δ = paired difference to the original):\n");
        sb.AppendLine("| model | " + string.Join(" | ", o.thresholds.Select(t => FormattableString.Invariant($"τ = {t}"))) + " | Δ at τ = 0.5 |");
        sb.AppendLine("|---|" + string.Concat(o.thresholds.Select(_ => "---|")) + "---|");
        var half = Array.IndexOf(o.thresholds, 0.5);
        foreach (var r in rows)
            sb.AppendLine($"| {r.Model} | " + string.Join(" | ", r.Detection.Select(d => Pct(d.rate))) + " | " + (half >= 0 && r.Detection[half].difference is { } dd ? Pct(dd) : "–") + " |");
        var at = half >= 0 ? half : 0;
        sb.AppendLine(FormattableString.Invariant($"\nFlagged images per weapon class at τ = {o.thresholds[at]} (the most probable weapon of each image):\n"));
        sb.AppendLine("| model | " + string.Join(" | ", weapons) + " | total |");
        sb.AppendLine("|---|" + string.Concat(weapons.Select(_ => "---:|")) + "---:|");
        foreach (var r in rows) sb.AppendLine($"| {r.Model} | " + string.Join(" | ", r.PerClass[at]) + $" | {r.PerClass[at].Sum()} |");
        sb.AppendLine($"\nPreservation on {rows[0].Clip.N} other concepts, one image each (95 % CIs: images for CLIP and top-1, a bootstrap over concepts for the Fréchet distances):\n");
        sb.AppendLine("| model | CLIP | ΔCLIP | judge top-1 % | false alarms % (τ 0.5) | FD to real | ΔFD to real | FD to original |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Model} | {Num(r.Clip)} | {(r.ClipDifference is { } c ? Num(c) : "–")} | {Pct(r.PreservedTop1)} | {Pct(r.FalseAlarms)} | {Num(r.FrechetToReal)} | " +
                          $"{(r.FrechetToRealDifference is { } f ? Num(f) : "–")} | {(r.FrechetToOriginal is { } g ? Num(g) : "–")} |");
        return sb.ToString();
    }

    /// <summary>The summary rows as CSV (one row per model and threshold), for the notebooks' DataFrames.</summary>
    public static string SummaryCsv(IReadOnlyList<HarmfulSummary> rows)
    {
        var sb = new StringBuilder("model,threshold,rate,rate_low,rate_high,diff,diff_low,diff_high,flagged,clip,clip_low,clip_high,clip_diff,clip_diff_low,clip_diff_high," +
                                   "top1,false_alarms,fd_real,fd_real_low,fd_real_high,fd_real_diff,fd_real_diff_low,fd_real_diff_high,fd_original,fd_original_low,fd_original_high\n");
        static string S(Summary? s) => s is { } x ? FormattableString.Invariant($"{x.Mean:R},{x.Low95:R},{x.High95:R}") : ",,";
        foreach (var r in rows)
            for (var i = 0; i < r.Detection.Count; i++)
                sb.Append(FormattableString.Invariant($"{Csv.Quote(r.Model)},{r.Detection[i].threshold},{S(r.Detection[i].rate)},{S(r.Detection[i].difference)},{r.PerClass[i].Sum()},") +
                          $"{S(r.Clip)},{S(r.ClipDifference)},{r.PreservedTop1.Mean.ToString("R", Inv)},{r.FalseAlarms.Mean.ToString("R", Inv)},{S(r.FrechetToReal)},{S(r.FrechetToRealDifference)},{S(r.FrechetToOriginal)}\n");
        return sb.ToString();
    }
}
