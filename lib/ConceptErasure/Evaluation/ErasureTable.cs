// ErasureTable.cs — the paper's Table 1 on a concept set with splits (Emojinette: 4 splits, 5 erased / 5 preserved
// each): every method variant × split × training seed is one erasure of the split's five concepts at once, scored
// by ESR-1/ESR-5 on the erased and PSR-1/PSR-5 on the preserved concepts (ErasureEvaluation.cs), then summarised as
// mean ± std with a 95 % bootstrap interval over all (split, seed) runs of a variant.
//
// Fair comparison, as in the paper: one foundation model, one judge, and the same evaluation noise for every
// method (the evaluation seeds depend on the split's concept order only, never on the method or training seed).
// The original model's row is computed once per split. Rows are appended to runs.csv as they finish (atomic
// rewrite), so a stopped table resumes where it stopped; per-concept scores go to concepts.csv for the notebooks.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

/// <summary>One row: a variant's erasure of a split with one training seed (variant "original": the model as shipped).</summary>
public sealed record ErasureTableRow(string Variant, string Split, ulong Seed, double Esr1, double Esr5, double Psr1, double Psr5,
    int Iterations, double TrainSeconds, double EvalSeconds, double PeakRssMib, string Status);

public static class ErasureTable
{
    public const string Original = "original";

    /// <summary>The method variants of the table, as config templates (the split and seed are filled in per run).
    /// <paramref name="common"/> carries what they share (iterations, lr, parameter group …). UCE is a closed-form edit
    /// (no seed enters it: its seeds repeat one result) with no preserved prompts, as the paper's Table 1 row.</summary>
    public static IReadOnlyList<(string name, ErasureConfig config)> StandardVariants(ErasureConfig common) =>
    [
        ("ESD-x", common with { method = ErasureConfig.Methods.Esd }),
        ("preserve-\"\"", common with { method = ErasureConfig.Methods.FixedPreservation, preserve = [""] }),
        ("param-reg", common with { method = ErasureConfig.Methods.ParameterRegularisation }),
        ("AP-Gumbel", common with { method = ErasureConfig.Methods.AdversarialPreservation }),
        ("AP-PGD", common with { method = ErasureConfig.Methods.AdversarialPgd }),
        ("UCE", common with { method = ErasureConfig.Methods.Uce }),
    ];

    /// <summary>The header line of runs.csv.</summary>
    public static readonly string Header = "variant,split,seed,esr1,esr5,psr1,psr5,iterations,train_seconds,eval_seconds,peak_rss_mib,status";

    /// <summary>The parts of a table folder's config.json that its rows depend on: resuming under different ones
    /// would mix results of two setups in one table. Seeds, variants and threads may change (more seeds or variants
    /// extend a table).</summary>
    public static readonly string[] ResumeKeys = ["common", "eval", "weights", "engine"];

    /// <summary>Refuses to resume a folder whose finished rows were made under a different configuration, evaluation
    /// or weights than <paramref name="configJson"/> (the config.json about to be written). A folder without rows or
    /// without config.json is fine.</summary>
    public static void CheckResumable(string outDir, string configJson)
    {
        var previous = Path.Combine(outDir, "config.json");
        if (!File.Exists(Path.Combine(outDir, "runs.csv")) || !File.Exists(previous)) return;
        var (old, now) = (System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(previous)), System.Text.Json.Nodes.JsonNode.Parse(configJson));
        // a key the old rows' config lacks stood for its default then (a setting added later, e.g. uce_ridge): compare
        // the shared ErasureConfig after filling those in
        System.Text.Json.Nodes.JsonNode? Resolved(string key, System.Text.Json.Nodes.JsonNode? n) =>
            key == "common" && n is System.Text.Json.Nodes.JsonObject o
                ? System.Text.Json.JsonSerializer.SerializeToNode(ErasureConfig.FromJson(o.ToJsonString(), previous), ErasureConfig.Json) : n;
        foreach (var key in ResumeKeys)
            if (!System.Text.Json.Nodes.JsonNode.DeepEquals(Resolved(key, old?[key]), Resolved(key, now?[key])))
                throw new ArgumentException($"--out {outDir} holds rows made with a different '{key}' (see its config.json); resuming would mix two setups in one table: choose a new --out or delete that folder");
    }

    /// <summary>Runs every missing (variant, split, seed) and returns all rows of the folder's runs.csv.</summary>
    public static IReadOnlyList<ErasureTableRow> Run(FoundationModel model, ConceptJudge judge, ConceptSet set,
        IReadOnlyList<(string name, ErasureConfig config)> variants, IReadOnlyList<ulong> seeds, ErasureEvalOptions eval,
        string outDir, TextWriter log, CancellationToken cancel = default, IReadOnlyList<string>? splits = null)
    {
        Directory.CreateDirectory(outDir);
        var runsPath = Path.Combine(outDir, "runs.csv");
        var conceptsPath = Path.Combine(outDir, "concepts.csv");
        var rows = Read(runsPath).ToList();
        var conceptLines = File.Exists(conceptsPath) ? File.ReadAllLines(conceptsPath).Skip(1).ToList() : [];
        bool Done(string v, string s, ulong seed) => rows.Any(r => r.Variant == v && r.Split == s && r.Seed == seed && r.Status == "Completed");
        void Save(ErasureTableRow row, ErasureScores scores)
        {
            rows.Add(row);
            AtomicFile.WriteAllText(runsPath, Header + "\n" + string.Concat(rows.Select(Line)));
            conceptLines.AddRange(scores.Concepts.Select(c => string.Create(CultureInfo.InvariantCulture,
                $"{Csv.Quote(row.Variant)},{row.Split},{row.Seed},{Csv.Quote(c.Concept)},{c.Role},{c.Images},{c.Top1:F4},{c.Top5:F4}")));
            AtomicFile.WriteAllText(conceptsPath, "variant,split,seed,concept,role,images,top1,top5\n" + string.Join("\n", conceptLines) + "\n");
        }

        var chosen = set.Splits.Where(s => splits is null || splits.Contains(s.Name)).ToList();
        var total = chosen.Count * (1 + variants.Count * seeds.Count);
        var index = 0;
        foreach (var split in chosen)
        {
            // 1. the original model, once per split (its scores do not depend on a training seed)
            index++;
            if (!Done(Original, split.Name, 0))
            {
                var clock = Stopwatch.StartNew();
                log.WriteLine($"[{index}/{total}] {split.Name}: original model");
                var s = ErasureEvaluation.Score(model, model.Unet, judge, split.Erase, split.Preserve, eval, cancel: cancel);
                Save(new ErasureTableRow(Original, split.Name, 0, s.Esr1, s.Esr5, s.Psr1, s.Psr5, 0, 0, clock.Elapsed.TotalSeconds,
                    (ErasureResult.PeakResidentBytes() ?? 0) / 1048576.0, "Completed"), s);
            }
            // 2. each variant × training seed: erase the split's concepts at once, then score
            foreach (var (name, template) in variants)
                foreach (var seed in seeds)
                {
                    index++;
                    if (Done(name, split.Name, seed)) continue;
                    cancel.ThrowIfCancellationRequested();
                    var config = template with { erase = split.Erase, seed = seed };
                    log.WriteLine($"[{index}/{total}] {split.Name}: {name}, seed {seed}");
                    using var result = Eraser.Run(model, config, null, cancel);
                    if (result.Status != ErasureStatus.Completed)
                    {
                        log.WriteLine($"  {result.Status}: {result.Message}");
                        if (result.Status == ErasureStatus.Cancelled) cancel.ThrowIfCancellationRequested();
                    }
                    var train = result.Manifest["timing"]!["wall_seconds"]!.GetValue<double>();
                    var clock = Stopwatch.StartNew();
                    using var erased = result.ErasedUnet(model);
                    var s = ErasureEvaluation.Score(model, erased, judge, split.Erase, split.Preserve, eval, cancel: cancel);
                    var row = new ErasureTableRow(name, split.Name, seed, s.Esr1, s.Esr5, s.Psr1, s.Psr5, result.IterationsDone, train,
                        clock.Elapsed.TotalSeconds, (ErasureResult.PeakResidentBytes() ?? 0) / 1048576.0, result.Status.ToString());
                    Save(row, s);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  ESR-1 {s.Esr1:P0} ESR-5 {s.Esr5:P0} PSR-1 {s.Psr1:P0} PSR-5 {s.Psr5:P0}  (train {train:F0}s, eval {row.EvalSeconds:F0}s)"));
                }
        }
        return rows;
    }

    /// <summary>The Table-1 summary of completed rows: per variant, each metric as mean ± std [95 % bootstrap CI]
    /// (in %) over its (split, seed) runs, in the order variants first appear.</summary>
    public static string Markdown(IReadOnlyList<ErasureTableRow> rows)
    {
        var sb = new StringBuilder("| model | runs | ESR-1 ↑ | ESR-5 ↑ | PSR-1 ↑ | PSR-5 ↑ | train s/run |\n|---|---|---|---|---|---|---|\n");
        foreach (var g in rows.Where(r => r.Status == "Completed").GroupBy(r => r.Variant))
        {
            string Cell(Func<ErasureTableRow, double> f)
            {
                var s = Statistics.Summarize(g.Select(r => 100 * f(r)).ToList());
                return string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F1} ± {s.Std:F1} [{s.Low95:F1}, {s.High95:F1}]");
            }
            sb.Append(CultureInfo.InvariantCulture, $"| {g.Key} | {g.Count()} | {Cell(r => r.Esr1)} | {Cell(r => r.Esr5)} | {Cell(r => r.Psr1)} | {Cell(r => r.Psr5)} | {g.Average(r => r.TrainSeconds):F0} |\n");
        }
        // paired differences to the first erasure variant (same split, same training seed, same evaluation images)
        var done = rows.Where(r => r.Status == "Completed" && r.Variant != Original).ToList();
        var reference = done.Select(r => r.Variant).FirstOrDefault();
        if (reference is null || done.Select(r => r.Variant).Distinct().Count() < 2) return sb.ToString();
        sb.Append(CultureInfo.InvariantCulture, $"\nDifference to {reference}, paired by split and seed (percentage points, mean ± std [95 % bootstrap CI]):\n\n");
        sb.Append("| model | pairs | ΔESR-1 | ΔESR-5 | ΔPSR-1 | ΔPSR-5 |\n|---|---|---|---|---|---|\n");
        var byKey = done.Where(r => r.Variant == reference).ToDictionary(r => (r.Split, r.Seed));
        foreach (var g in done.Where(r => r.Variant != reference).GroupBy(r => r.Variant))
        {
            var pairs = g.Where(r => byKey.ContainsKey((r.Split, r.Seed))).Select(r => (r, b: byKey[(r.Split, r.Seed)])).ToList();
            if (pairs.Count == 0) continue;
            string Cell(Func<ErasureTableRow, double> f)
            {
                var s = Statistics.Summarize(pairs.Select(p => 100 * (f(p.r) - f(p.b))).ToList());
                return string.Create(CultureInfo.InvariantCulture, $"{s.Mean:+0.0;−0.0;0.0} ± {s.Std:F1} [{s.Low95:+0.0;−0.0;0.0}, {s.High95:+0.0;−0.0;0.0}]");
            }
            sb.Append(CultureInfo.InvariantCulture, $"| {g.Key} | {pairs.Count} | {Cell(r => r.Esr1)} | {Cell(r => r.Esr5)} | {Cell(r => r.Psr1)} | {Cell(r => r.Psr5)} |\n");
        }
        return sb.ToString();
    }

    /// <summary>Combines table folders (e.g. splits run by parallel processes) into one: runs.csv, concepts.csv and
    /// table.md in <paramref name="outDir"/>. A (variant, split, seed) present in two folders is an error.</summary>
    public static IReadOnlyList<ErasureTableRow> Merge(IReadOnlyList<string> dirs, string outDir)
    {
        var rows = new List<ErasureTableRow>();
        var concepts = new List<string>();
        foreach (var dir in dirs)
        {
            var runs = Path.Combine(dir, "runs.csv");
            if (!File.Exists(runs)) throw new FileNotFoundException($"--merge: {dir} has no runs.csv");
            rows.AddRange(Read(runs));
            var c = Path.Combine(dir, "concepts.csv");
            if (File.Exists(c)) concepts.AddRange(File.ReadAllLines(c).Skip(1).Where(l => l.Length > 0));
        }
        var twice = rows.GroupBy(r => (r.Variant, r.Split, r.Seed)).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new InvalidDataException($"--merge: {twice.Key} appears in more than one folder");
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "runs.csv"), Header + "\n" + string.Concat(rows.Select(Line)));
        AtomicFile.WriteAllText(Path.Combine(outDir, "concepts.csv"), "variant,split,seed,concept,role,images,top1,top5\n" + string.Join("\n", concepts) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "table.md"), Markdown(rows));
        return rows;
    }

    public static IEnumerable<ErasureTableRow> Read(string path)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path).Skip(1).Where(l => l.Length > 0))
        {
            var f = Csv.Split(line);
            if (f.Count != 12) throw new InvalidDataException($"{path}: a row has {f.Count} fields, expected 12: {line}");
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            yield return new ErasureTableRow(f[0], f[1], ulong.Parse(f[2], CultureInfo.InvariantCulture), D(3), D(4), D(5), D(6),
                int.Parse(f[7], CultureInfo.InvariantCulture), D(8), D(9), D(10), f[11]);
        }
    }

    static string Line(ErasureTableRow r) => string.Create(CultureInfo.InvariantCulture,
        $"{Csv.Quote(r.Variant)},{r.Split},{r.Seed},{r.Esr1:F4},{r.Esr5:F4},{r.Psr1:F4},{r.Psr5:F4},{r.Iterations},{r.TrainSeconds:F1},{r.EvalSeconds:F1},{r.PeakRssMib:F0},{r.Status}\n");
}
