// SpectrumResults.cs — reads back what `workbook spectrum` wrote (lib/ConceptErasure.Cli/Commands/SpectrumCommand.cs)
// so that notebooks 02 and 03 start from committed numbers: per folder, the original model's per-image CLIP scores and
// judge verdicts, and per erase run the same for the erased model, its ε-sensitivity over the vocabulary by latent
// seed, its resolved erasure config and its history (the adversary's candidates). Only finished runs (done.json)
// are read.
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Erasure;

namespace ConceptErasure.Evaluation;

/// <summary>One measured erase run.</summary>
public sealed record SpectrumRun(string Name, string Folder, ErasureConfig Config, IReadOnlyList<ClipScoreSet> Scores,
    SortedDictionary<ulong, Dictionary<string, double>> Sensitivity, double TrainSeconds)
{
    /// <summary>The run's θ′ and adversary rows, as its history.csv holds them.</summary>
    public IReadOnlyList<ErasureStep> History() => ErasureResult.ParseHistory(File.ReadAllText(Path.Combine(Folder, ErasureResult.HistoryFile)));
}

/// <summary>One spectrum folder: the original model's scores and the runs measured against it.</summary>
public sealed record SpectrumResults(string Folder, IReadOnlyList<ClipScoreSet> Original, IReadOnlyList<SpectrumRun> Runs, ClipDeltaOptions Options)
{
    public static SpectrumResults Load(string folder)
    {
        var originalPath = Path.Combine(folder, "original", "clip-scores.csv");
        if (!File.Exists(originalPath)) throw new FileNotFoundException($"{folder} is not a spectrum folder (no original/clip-scores.csv; made by `workbook spectrum`)", originalPath);
        var original = ClipDelta.ReadCsv(originalPath);
        var runs = new List<SpectrumRun>();
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(dir, "done.json"))) continue;
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "erase-manifest.json")))!;
            var config = ErasureConfig.FromJson(manifest["config"]!.ToJsonString(), Path.Combine(dir, "erase-manifest.json"));
            var sensPath = Path.Combine(dir, "sensitivity.csv");
            var sens = File.Exists(sensPath) ? Sensitivity.ReadCsv(sensPath) : new SortedDictionary<ulong, Dictionary<string, double>>();
            var seconds = (double?)manifest["timing"]?["wall_seconds"] ?? double.NaN;
            runs.Add(new SpectrumRun(Path.GetFileName(dir), dir, config, ClipDelta.ReadCsv(Path.Combine(dir, "clip-scores.csv")), sens, seconds));
        }
        var options = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")))?["options"]?["clip"]?.Deserialize<ClipDeltaOptions>()
            ?? throw new InvalidDataException($"{folder}/manifest.json records no CLIP options");
        return new SpectrumResults(folder, original, runs, options);
    }

    /// <summary>The runs whose folder name starts with <paramref name="prefix"/> (one method's seeds), by seed.</summary>
    public IReadOnlyList<SpectrumRun> Variant(string prefix) => Runs.Where(r => r.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(r => r.Config.seed).ToList();
}
