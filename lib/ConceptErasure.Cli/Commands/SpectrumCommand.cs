// `workbook spectrum runs/erase/<run> …`: how far each erasure spread (Bui et al., NeurIPS 2024, §3, Figs. 1–3;
// library: Evaluation/ClipDelta.cs and Evaluation/Sensitivity.cs). For the original model once and then for every
// erase run it draws the images of a concept list (default data/concept-sets/spectrum.json, plus --judge-concepts)
// from the same seeds and scores each image with CLIP and the judge; for every run it also measures the ε-sensitivity
// δ(c) of the whole vocabulary at shared latents of several seeds. It writes:
//   <out>/original/clip-scores.csv            one row per image: CLIP score, judge top-1/top-5 hit
//   <out>/<run>/clip-scores.csv, sensitivity.csv, erase-manifest.json, history.csv (the run's own, copied)
//   <out>/<run>/done.json                     written last: the run counts as finished (what --resume skips)
//   <out>/manifest.json                       options, weights' fingerprints, versions, per-run seconds, peak RSS
// Everything is checked before any work (as `audit`: run folders, weights, concepts).
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Engine;
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using TorchSharp;

namespace ConceptErasure.Cli.Commands;

internal static class SpectrumCommand
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public const string OriginalFolder = "original", ScoresFile = "clip-scores.csv", SensitivityFile = "sensitivity.csv", DoneFile = "done.json";

    public static Command Create()
    {
        var dc = new ClipDeltaOptions();
        var ds = new SensitivityOptions();
        var runs = new Argument<string[]>("runs") { Description = "erase run folder(s)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "result folder", DefaultValueFactory = _ => Path.Combine("runs", "spectrum") };
        var set = new Option<string>("--concepts") { Description = "concept set (a name in data/concept-sets or a .json file) whose entries are drawn and scored", DefaultValueFactory = _ => ConceptSets.Spectrum };
        var judged = new Option<string[]>("--judge-concepts") { Description = "more concepts to draw and score (e.g. the erased concept's nearest, for PSR)", AllowMultipleArgumentsPerToken = true };
        var images = new Option<int>("--images") { Description = "images per concept and model (the paper: 200)", DefaultValueFactory = _ => dc.images };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of every image", DefaultValueFactory = _ => dc.sampling.steps };
        var seed = new Option<ulong>("--seed") { Description = "first image seed (concept i: seed + 1000·i + k)", DefaultValueFactory = _ => dc.seed };
        var zSeeds = new Option<int>("--latent-seeds") { Description = "latent seeds of the vocabulary spectrum (0 = no spectrum)", DefaultValueFactory = _ => 3 };
        var latents = new Option<int>("--latents") { Description = "shared latents z per latent seed (the paper: 1)", DefaultValueFactory = _ => 1 };
        var model = new Option<string>("--model") { Description = "the original foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var judge = new Option<string>("--judge") { Description = "concept judge folder", DefaultValueFactory = _ => ConceptJudge.DefaultPath };
        var clipDir = new Option<string>("--clip") { Description = "CLIP folder (CLIP scores)", DefaultValueFactory = _ => ClipModel.DefaultPath };
        var threads = CommandSupport.ThreadsOption();
        var overwrite = CommandSupport.OverwriteOption();
        var resume = new Option<bool>("--resume") { Description = "keep the finished runs in --out (same options) and do the rest" };
        var cmd = new Command("spectrum", "Measure how far erasures spread: CLIP-score δ and judge rates over a concept list, ε-sensitivity over the vocabulary. " + ExitCode.Help)
        {
            runs, output, set, judged, images, steps, seed, zSeeds, latents, model, judge, clipDir, threads, overwrite, resume,
        };
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            // 1. options and every argument, before any work
            var clipOptions = dc with { images = r.GetValue(images), seed = r.GetValue(seed), sampling = dc.sampling with { steps = r.GetValue(steps) } };
            if (clipOptions.images is < 1 or > ErasureEvaluation.MaxImagesPerConcept) throw new ArgumentException($"--images must lie in [1, {ErasureEvaluation.MaxImagesPerConcept}]");
            if (clipOptions.sampling.steps < 1) throw new ArgumentException("--steps must be at least 1");
            var nSeeds = r.GetValue(zSeeds);
            if (nSeeds is < 0 or > 100) throw new ArgumentException("--latent-seeds must lie in [0, 100]");
            var sensOptions = ds with { latents = r.GetValue(latents) };
            if (sensOptions.latents is < 1 or > 64) throw new ArgumentException("--latents must lie in [1, 64]");
            if (r.GetValue(resume) && r.GetValue(overwrite)) throw new ArgumentException("--resume keeps runs and --overwrite discards them: give one of them");
            var data = EmojiData.Load();
            var setName = r.GetValue(set)!;
            var conceptSet = setName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && File.Exists(setName)
                ? ConceptSets.Parse(File.ReadAllText(setName), setName) : ConceptSets.Load(setName);
            var items = conceptSet.Entries.Select(e => ClipDeltaItem.For(e, clipOptions.template)).ToList();
            foreach (var c in r.GetValue(judged) ?? [])
            {
                var name = data.Index.Resolve(c.Trim()).Name;
                if (!items.Any(i => i.Name == name)) items.Add(ClipDeltaItem.Concept(name, clipOptions.template));
            }
            var modelDir = r.GetValue(model)!;
            var weights = Fingerprint.Of(modelDir);
            var subjects = r.GetValue(runs)!.Select(a => AuditCommand.Inspect(a, modelDir, weights, null, data)).ToList();
            if (subjects.Any(s => s.Kind != "erase run")) throw new ArgumentException("spectrum measures erase runs; a model folder has no original to compare with here");
            var dupe = subjects.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
            if (dupe is not null) throw new ArgumentException($"two arguments share the folder name '{dupe.Key}' (each is written to <out>/<name>)");
            var outDir = r.GetValue(output)!;
            var options = new JsonObject
            {
                ["concept_set"] = conceptSet.Name, ["items"] = new JsonArray(items.Select(i => (JsonNode)new JsonObject { ["name"] = i.Name, ["prompt"] = i.Prompt }).ToArray()),
                ["clip"] = JsonSerializer.SerializeToNode(clipOptions), ["latent_seeds"] = nSeeds, ["sensitivity"] = JsonSerializer.SerializeToNode(sensOptions),
                ["weights"] = new JsonObject(weights.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            };
            var manifestPath = Path.Combine(outDir, "manifest.json");
            if (r.GetValue(resume) && File.Exists(manifestPath) && !JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(manifestPath))?["options"], options))
                throw new ArgumentException($"--out {outDir} was made with other options (see its manifest.json); resuming would mix two setups: choose a new --out or drop --resume");
            RunFolder.Prepare(outDir, r.GetValue(overwrite), what: "--out", allowExisting: r.GetValue(resume));

            // 2. the original model's images (once), then each run
            CommandSupport.SetThreads(r.GetValue(threads), Environment.ProcessorCount);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var manifest = new JsonObject { ["status"] = "Running", ["options"] = options, ["versions"] = JsonSerializer.SerializeToNode(TorchRuntime.Versions), ["runs"] = new JsonObject() };
            void SaveManifest() => AtomicFile.WriteAllText(manifestPath, manifest.ToJsonString(Indented) + "\n");
            SaveManifest();
            using var m = FoundationModel.Load(modelDir);
            using var j = ConceptJudge.Load(r.GetValue(judge));
            using var clip = ClipModel.Load(r.GetValue(clipDir));
            var originalPath = Path.Combine(outDir, OriginalFolder, ScoresFile);
            IReadOnlyList<ClipScoreSet> original;
            if (r.GetValue(resume) && File.Exists(originalPath)) original = ClipDelta.ReadCsv(originalPath);
            else
            {
                Console.WriteLine($"original model: {items.Count} prompts × {clipOptions.images} images");
                original = ClipDelta.Scores(m, m.Unet, clip, items, clipOptions, Console.Out, j);
                Directory.CreateDirectory(Path.GetDirectoryName(originalPath)!);
                AtomicFile.WriteAllText(originalPath, ClipDelta.ToCsv(original));
            }
            var vocabulary = Sensitivity.Vocabulary(data.Index, m.Tokenizer);
            var index = 0;
            foreach (var s in subjects)
            {
                index++;
                var dir = Path.Combine(outDir, s.Name);
                if (r.GetValue(resume) && File.Exists(Path.Combine(dir, DoneFile)))
                {
                    manifest["runs"]![s.Name] = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, DoneFile)));
                    Console.WriteLine($"[{index}/{subjects.Count}] {s.Name}: kept from before");
                    continue;
                }
                var runClock = System.Diagnostics.Stopwatch.StartNew();
                Directory.CreateDirectory(dir);
                using var result = ErasureResult.Load(s.Folder);
                using var erased = result.ErasedUnet(m);
                Console.WriteLine($"[{index}/{subjects.Count}] {s.Name}: images");
                var scores = ClipDelta.Scores(m, erased, clip, items, clipOptions, null, j);
                AtomicFile.WriteAllText(Path.Combine(dir, ScoresFile), ClipDelta.ToCsv(scores));
                var sens = new System.Text.StringBuilder(Sensitivity.CsvHeader + "\n");
                for (var k = 0; k < nSeeds; k++)
                {
                    Console.WriteLine($"[{index}/{subjects.Count}] {s.Name}: spectrum of {vocabulary.Count} words, latent seed {k + 1}/{nSeeds}");
                    var o = sensOptions with { seed = sensOptions.seed + (ulong)k };
                    sens.Append(Sensitivity.ToCsv(vocabulary, o.seed, Sensitivity.Delta(m, m.Unet, erased, vocabulary, o)));
                }
                if (nSeeds > 0) AtomicFile.WriteAllText(Path.Combine(dir, SensitivityFile), sens.ToString());
                File.Copy(Path.Combine(s.Folder, ErasureResult.ManifestFile), Path.Combine(dir, "erase-manifest.json"), overwrite: true);
                File.Copy(Path.Combine(s.Folder, ErasureResult.HistoryFile), Path.Combine(dir, ErasureResult.HistoryFile), overwrite: true);
                var delta = ClipDelta.Delta(original, scores);
                var done = new JsonObject { ["run"] = s.Provenance.DeepClone(), ["seconds"] = Math.Round(runClock.Elapsed.TotalSeconds, 1) };
                AtomicFile.WriteAllText(Path.Combine(dir, DoneFile), done.ToJsonString(Indented) + "\n");
                manifest["runs"]![s.Name] = done.DeepClone();
                SaveManifest();
                Console.WriteLine(FormattableString.Invariant($"[{index}/{subjects.Count}] {s.Name}: mean CLIP δ {delta.Average(d => d.Delta.Mean):F2} in {runClock.Elapsed.TotalSeconds:F0} s"));
            }
            manifest["status"] = "Completed";
            AuditFiles.Finish(manifest, clock.Elapsed.TotalSeconds);
            SaveManifest();
            Console.WriteLine($"wrote {outDir}");
        }));
        return cmd;
    }
}
