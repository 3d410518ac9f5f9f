// TaskRuns.cs — the shared loop of the task commands (`workbook harmful`, `workbook style`): the original model first,
// then every erase run, each scored into <out>/<name>/ and marked finished by <out>/<name>/done.json (written last;
// what --resume keeps), with <out>/manifest.json holding the options, the weights' fingerprints, the runs' provenance,
// versions, per-model seconds and the peak RSS. Arguments are checked before any work, as in `audit`.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Engine;
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;

namespace ConceptErasure.Cli.Commands;

internal static class TaskRuns
{
    public const string OriginalName = "original", DoneFile = "done.json", ManifestFile = "manifest.json";
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The options every task command shares: the original model, the judge, CLIP, threads, --overwrite, --resume.</summary>
    public sealed record Common(Option<string> Model, Option<string> Judge, Option<string> Clip, Option<int> Threads, Option<bool> Overwrite, Option<bool> Resume)
    {
        public static Common Create(string judgeRole) => new(
            new Option<string>("--model") { Description = "the original foundation model folder (the one the runs erased from)", DefaultValueFactory = _ => FoundationModel.DefaultPath },
            new Option<string>("--judge") { Description = $"concept judge folder ({judgeRole})", DefaultValueFactory = _ => ConceptJudge.DefaultPath },
            new Option<string>("--clip") { Description = "CLIP folder (CLIP scores)", DefaultValueFactory = _ => ClipModel.DefaultPath },
            CommandSupport.ThreadsOption(), CommandSupport.OverwriteOption(),
            new Option<bool>("--resume") { Description = "keep the finished models in --out (same options) and do the rest" });

        public void AddTo(Command cmd) { foreach (var o in new Option[] { Model, Judge, Clip, Threads, Overwrite, Resume }) cmd.Options.Add(o); }
    }

    /// <summary>A concept set's concepts: a set name in data/concept-sets or a .json file.</summary>
    public static IReadOnlyList<string> ConceptNames(string set)
    {
        var names = (set.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(set) ? ConceptSets.Parse(File.ReadAllText(set), set) : ConceptSets.Load(set)).ConceptNames;
        return names.Count > 0 ? names : throw new ArgumentException($"concept set {set} names no concept");
    }

    /// <summary>Weights' fingerprints as a manifest object.</summary>
    public static JsonObject Json(SortedDictionary<string, string> fingerprints) => new(fingerprints.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

    /// <summary>Checks the run folders (completed erase runs of --model's weights, distinct names, none called
    /// "original") and whatever <paramref name="check"/> asks of each, then prepares --out; on --resume the manifest's options must be the same.</summary>
    public static List<AuditCommand.Subject> Prepare(string[] runs, string modelDir, SortedDictionary<string, string> weights, EmojiData data,
        string outDir, JsonObject options, bool resume, bool overwrite, Action<AuditCommand.Subject>? check = null)
    {
        if (resume && overwrite) throw new ArgumentException("--resume keeps finished models and --overwrite discards them: give one of them");
        var subjects = runs.Select(a => AuditCommand.Inspect(a, modelDir, weights, null, data)).ToList();
        if (subjects.FirstOrDefault(s => s.Kind != "erase run") is { } bad) throw new ArgumentException($"{bad.Folder}: give erase run folders (the original model is scored anyway)");
        if (subjects.FirstOrDefault(s => s.Name == OriginalName) is { } o) throw new ArgumentException($"{o.Folder}: a run folder may not be called '{OriginalName}' (the original model's scores go there)");
        var dupe = subjects.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (dupe is not null) throw new ArgumentException($"two arguments share the folder name '{dupe.Key}' (each is written to <out>/<name>)");
        foreach (var s in subjects) check?.Invoke(s);
        var manifestPath = Path.Combine(outDir, ManifestFile);
        if (resume && File.Exists(manifestPath) && !JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(manifestPath))?["options"], options))
            throw new ArgumentException($"--out {outDir} was made with other options (see its manifest.json); resuming would mix two setups: choose a new --out or drop --resume");
        RunFolder.Prepare(outDir, overwrite, what: "--out", allowExisting: resume);
        return subjects;
    }

    /// <summary>Scores the original model and every run with <paramref name="score"/>(name, UNet, folder), which writes the
    /// model's files; a finished model is kept on --resume and read back with <paramref name="load"/>(name, folder).</summary>
    public static List<T> Run<T>(string outDir, JsonObject options, IReadOnlyList<AuditCommand.Subject> subjects, FoundationModel m, bool resume,
        Func<string, UNet2DConditionModel, string, CancellationToken, T> score, Func<string, string, T> load)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var manifestPath = Path.Combine(outDir, ManifestFile);
        var manifest = new JsonObject
        {
            ["status"] = "Running", ["options"] = options.DeepClone(), ["started_utc"] = DateTime.UtcNow.ToString("O"),
            ["threads"] = TorchSharp.torch.get_num_threads(), ["versions"] = JsonSerializer.SerializeToNode(TorchRuntime.Versions), ["models"] = new JsonObject(),
        };
        void Save() => AtomicFile.WriteAllText(manifestPath, manifest.ToJsonString(Indented) + "\n");
        Save();
        var cancel = CommandSupport.Cancel();
        var results = new List<T>();
        var all = new[] { (name: OriginalName, subject: (AuditCommand.Subject?)null) }.Concat(subjects.Select(s => (name: s.Name, subject: (AuditCommand.Subject?)s))).ToList();
        for (var i = 0; i < all.Count; i++)
        {
            var (name, subject) = all[i];
            var dir = Path.Combine(outDir, name);
            var done = Path.Combine(dir, DoneFile);
            if (resume && File.Exists(done))
            {
                results.Add(load(name, dir));
                manifest["models"]![name] = JsonNode.Parse(File.ReadAllText(done));
                Console.WriteLine($"[{i + 1}/{all.Count}] {name}: kept from before");
                continue;
            }
            Directory.CreateDirectory(dir);
            var modelClock = System.Diagnostics.Stopwatch.StartNew();
            Console.WriteLine($"[{i + 1}/{all.Count}] {name}");
            try
            {
                if (subject is null) results.Add(score(name, m.Unet, dir, cancel));
                else
                {
                    using var result = ErasureResult.Load(subject.Folder);
                    using var erased = result.ErasedUnet(m);
                    results.Add(score(name, erased, dir, cancel));
                    File.Copy(Path.Combine(subject.Folder, ErasureResult.ManifestFile), Path.Combine(dir, "erase-manifest.json"), overwrite: true);
                }
            }
            catch (OperationCanceledException)
            {
                manifest["status"] = "Cancelled";
                Save();
                throw new InterruptedException($"stopped; {outDir} keeps the finished models (run the same command with --resume to go on)");
            }
            var record = new JsonObject { ["run"] = subject?.Provenance.DeepClone(), ["seconds"] = Math.Round(modelClock.Elapsed.TotalSeconds, 1) };
            AtomicFile.WriteAllText(done, record.ToJsonString(Indented) + "\n");
            manifest["models"]![name] = record.DeepClone();
            Save();
            Console.WriteLine(FormattableString.Invariant($"[{i + 1}/{all.Count}] {name}: done in {modelClock.Elapsed.TotalSeconds:F0} s"));
        }
        manifest["status"] = "Completed";
        AuditFiles.Finish(manifest, clock.Elapsed.TotalSeconds);
        Save();
        return results;
    }
}
