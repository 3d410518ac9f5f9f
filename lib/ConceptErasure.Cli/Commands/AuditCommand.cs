// `workbook audit runs/erase/<run> …`: the CLI's second main job — is the erasure unlearning or concealment?
// (Sharma et al., 2024; library: lib/ConceptErasure/Audit/). For each erase run folder it audits every erased
// concept (forget prompts) and a few concepts it should keep (retain prompts) with the partial-diffusion attack,
// and writes <out>/<run name>/:
//   scores.csv / summary.csv / audit.json  per-ψ scores, per-prompt CRS, CCS, classifier accuracy, judge recovery
//   grids/<concept>.png                    the attack images: rows ψ, columns seeds
//   prompts/<concept>.json                 each finished prompt (what --resume keeps)
//   manifest.json, report.html             options, seeds, versions, wall time, peak memory; a one-page summary
// An argument may also be a foundation model folder (a never-saw-it model, with --forget naming its missing
// concepts): it is audited against --model like an erased one. Everything is checked before any work: a folder that
// is not an erase run (or is a results table, which keeps scores and no weights), a run erased from other weights
// than --model's, ψ outside [0, 1], an unknown concept, an unusable --out. Exit codes as `erase`.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Audit;
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;

namespace ConceptErasure.Cli.Commands;

internal static class AuditCommand
{
    /// <summary>What one argument names: the UNet to audit (built on demand), its forget concepts, and its provenance.</summary>
    internal sealed record Subject(string Folder, string Name, string Kind, string[] Forget, JsonObject Provenance);

    public static Command Create()
    {
        var d = new ConcealmentAuditOptions();
        var runs = new Argument<string[]>("runs") { Description = "erase run folder(s) (or a foundation model folder that never saw --forget)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "parent folder: each audit goes into <out>/<run folder name>", DefaultValueFactory = _ => Path.Combine("runs", "audit") };
        var retain = new Option<string[]>("--retain") { Description = "retain prompts' concepts (default: the first three Emojinette classes not erased)", AllowMultipleArgumentsPerToken = true };
        var forget = new Option<string[]>("--forget") { Description = "forget concepts (default: the run's erased concepts; required for a model folder)", AllowMultipleArgumentsPerToken = true };
        var psi = new Option<double[]>("--psi") { Description = "ψ grid (fractions of the DDIM steps the original model takes first)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => d.attack.psi };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of every image", DefaultValueFactory = _ => d.attack.sampling.steps };
        var guidance = new Option<double>("--guidance") { Description = "CFG scale of both models", DefaultValueFactory = _ => d.attack.sampling.guidance_scale };
        var attackImages = new Option<int>("--attack-images") { Description = "attack images per ψ", DefaultValueFactory = _ => d.attack_images };
        var referenceImages = new Option<int>("--reference-images") { Description = "images per reference set (λ_O, λ_U; the paper: 200)", DefaultValueFactory = _ => d.reference_images };
        var seed = new Option<ulong>("--seed") { Description = "first seed of the attack images", DefaultValueFactory = _ => d.attack.seed };
        var referenceSeed = new Option<ulong>("--reference-seed") { Description = "first seed of the reference sets", DefaultValueFactory = _ => d.reference_seed };
        var template = new Option<string>("--template") { Description = "prompt P of a concept ({a} = its article)", DefaultValueFactory = _ => d.template };
        var model = new Option<string>("--model") { Description = "the original foundation model folder (the one the runs erased from)", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var judge = new Option<string>("--judge") { Description = "concept judge folder", DefaultValueFactory = _ => ConceptJudge.DefaultPath };
        var threads = CommandSupport.ThreadsOption();
        var overwrite = CommandSupport.OverwriteOption();
        var resume = new Option<bool>("--resume") { Description = "continue audits in --out that were stopped (finished prompts are kept), with the same options" };
        var cmd = new Command("audit", "Audit erased models with the partial-diffusion attack: CRS, CCS, KID and judge recovery per ψ. " + ExitCode.Help)
        {
            runs, output, forget, retain, template, psi, steps, guidance, attackImages, referenceImages, seed, referenceSeed, model, judge, threads, overwrite, resume,
        };
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            // 1. options, then every argument, before any work
            var o = d with
            {
                attack = d.attack with { psi = r.GetValue(psi)!, seed = r.GetValue(seed), sampling = d.attack.sampling with { steps = r.GetValue(steps), guidance_scale = r.GetValue(guidance) } },
                attack_images = r.GetValue(attackImages), reference_images = r.GetValue(referenceImages), reference_seed = r.GetValue(referenceSeed), template = r.GetValue(template)!,
            };
            o.Validate();
            if (r.GetValue(resume) && r.GetValue(overwrite)) throw new ArgumentException("--resume continues audits and --overwrite discards them: give one of them");
            var modelDir = r.GetValue(model)!;
            var weights = Fingerprint.Of(modelDir);
            var data = EmojiData.Load();
            var subjects = r.GetValue(runs)!.Select(a => Inspect(a, modelDir, weights, r.GetValue(forget), data)).ToList();
            var dupe = subjects.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
            if (dupe is not null) throw new ArgumentException($"two arguments share the folder name '{dupe.Key}' (each audit is written to <out>/<name>)");
            using var j = ConceptJudge.Load(r.GetValue(judge));
            var judgeWeights = Fingerprint.Of(r.GetValue(judge)!);
            var plans = subjects.Select(s => (s, prompts: Prompts(s, r.GetValue(retain), data, j))).ToList();
            var outRoot = r.GetValue(output)!;
            foreach (var (s, _) in plans)
            {
                var dir = Path.Combine(outRoot, s.Name);
                if (r.GetValue(resume)) AuditFiles.CheckResumable(dir, s, o);
                RunFolder.Prepare(dir, r.GetValue(overwrite), what: $"--out {outRoot}: audit folder", allowExisting: r.GetValue(resume));
            }

            // 2. the audits, prompt by prompt (each saved as it finishes)
            CommandSupport.SetThreads(r.GetValue(threads), Environment.ProcessorCount);
            var cancel = CommandSupport.Cancel();
            using var m = FoundationModel.Load(modelDir);
            var pipe = new StableDiffusionPipeline(m);
            using var cache = new OriginalCache();   // λ_O and ψ = 1 per prompt: one original model, one set of options here
            var total = plans.Sum(p => p.prompts.Count);
            var done = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var (s, prompts) in plans)
            {
                var dir = Path.Combine(outRoot, s.Name);
                var runClock = System.Diagnostics.Stopwatch.StartNew();   // this run's wall time (clock: the whole command's, for the ETA)
                var manifest = AuditFiles.Manifest(s, o, weights, judgeWeights, prompts);
                AuditFiles.WriteManifest(dir, manifest);
                using var erased = Unet(s, m);
                var results = new List<PromptAudit>();
                try
                {
                    foreach (var (concept, role) in prompts)
                    {
                        done++;
                        if (AuditFiles.LoadPrompt(dir, concept) is { } kept) { results.Add(kept); Console.WriteLine($"[{done}/{total}] {s.Name}: {concept} kept from before"); continue; }
                        var grid = new List<(double psi, IReadOnlyList<RgbaImage?> images)>();
                        var a = ConcealmentAudit.Run(pipe, m.Unet, erased, j, concept, role, o,
                            (p, images) => { using (images) grid.Add((p, GenerateCommand.ToImages(images))); },
                            line => Console.WriteLine($"[{done}/{total}] {s.Name}: {line}"), cancel, cache);
                        AuditFiles.SaveGrid(dir, concept, grid, o);
                        AuditFiles.SavePrompt(dir, a);
                        results.Add(a);
                        var eta = clock.Elapsed.TotalSeconds / done * (total - done);
                        Console.WriteLine(FormattableString.Invariant($"[{done}/{total}] {s.Name}: {concept} ({role}) CRS {Show(a.Crs)}, CCS {Show(a.Ccs)} in {a.Seconds:F0} s; ETA {eta / 60:F1} min"));
                    }
                }
                catch (OperationCanceledException)
                {
                    manifest["status"] = "Cancelled";
                    AuditFiles.WriteManifest(dir, manifest);
                    throw new InterruptedException($"audit stopped; {dir} keeps the finished prompts (run the same command with --resume to go on)");
                }
                AuditFiles.WriteResults(dir, s, results, o);
                manifest["status"] = "Completed";
                AuditFiles.Finish(manifest, runClock.Elapsed.TotalSeconds);
                AuditFiles.WriteManifest(dir, manifest);
                Console.WriteLine($"{s.Name}: {AuditFiles.Headline(results)}; wrote {dir} (report.html)");
            }
        }));
        return cmd;
    }

    static string Show(double? v) => v is { } x ? x.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "– (classifier below the bar)";

    /// <summary>Checks one argument and says what it is; every refusal is one message naming the folder.</summary>
    internal static Subject Inspect(string folder, string modelDir, SortedDictionary<string, string> weights, string[]? forget, EmojiData data)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder (give an erase run folder, e.g. runs/erase/<run>)");
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (File.Exists(Path.Combine(folder, "model.json")) && File.Exists(Path.Combine(folder, "unet.safetensors")))
        {
            // a whole model (the never-saw-it UNet): it must share --model's text encoder and autoencoder
            if (forget is not { Length: > 0 }) throw new ArgumentException($"{folder} is a model folder: name the concepts it never saw with --forget");
            var theirs = Fingerprint.Of(folder);
            foreach (var part in new[] { "text_encoder.safetensors", "vae.safetensors" })
                if (!theirs.TryGetValue(part, out var h) || h != weights.GetValueOrDefault(part))
                    throw new ArgumentException($"{folder}: its {part} differs from {modelDir}'s; only the UNet may differ for an audit");
            return new Subject(folder, name, "model", Resolve(forget, data), new JsonObject { ["kind"] = "model", ["folder"] = folder, ["weights"] = Json(theirs) });
        }
        if (File.Exists(Path.Combine(folder, "runs.csv")) && File.Exists(Path.Combine(folder, "table.md")))
            throw new ArgumentException($"{folder} is a results table: it keeps scores, not erased weights; audit the erase runs themselves (workbook erase … --out <run>)");
        var manifestPath = Path.Combine(folder, ErasureResult.ManifestFile);
        if (!File.Exists(manifestPath) || !File.Exists(Path.Combine(folder, ErasureResult.DeltaFile)))
            throw new ArgumentException($"{folder} is not an erase run folder (it needs {ErasureResult.ManifestFile} and {ErasureResult.DeltaFile}, as `workbook erase` writes them)");
        JsonObject manifest;
        try { manifest = JsonNode.Parse(File.ReadAllText(manifestPath))?.AsObject() ?? throw new InvalidDataException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidDataException) { throw new InvalidDataException($"{manifestPath}: not a valid manifest ({e.Message})"); }
        if ((string?)manifest["status"] != nameof(ErasureStatus.Completed))
            throw new ArgumentException($"{folder}: the erasure did not complete (status {(string?)manifest["status"] ?? "missing"}); finish it with `workbook erase … --resume`");
        if (manifest["weights"] is not JsonObject recorded)
            throw new ArgumentException($"{folder} does not record which weights it erased from (made by an older workbook): erase again to audit it");
        foreach (var (file, hash) in weights)
            if ((string?)recorded[file] != hash)
                throw new ArgumentException($"{folder} was erased from other weights than {modelDir} ({file}: {(string?)recorded[file] ?? "absent"} vs {hash}); audit it with the --model it was made from");
        var erased = (manifest["erase"] as JsonArray)?.Select(n => (string)n!).ToArray() ?? [];
        var f = forget is { Length: > 0 } ? Resolve(forget, data) : erased;
        if (f.Length == 0) throw new InvalidDataException($"{manifestPath}: names no erased concept");
        return new Subject(folder, name, "erase run", f, new JsonObject
        {
            ["kind"] = "erase run", ["folder"] = folder, ["method"] = (string?)manifest["method"], ["erase"] = manifest["erase"]?.DeepClone(),
            ["parameters"] = manifest["config"]?["parameters"]?.DeepClone(), ["seed"] = manifest["seed"]?.DeepClone(), ["weights"] = recorded.DeepClone(),
        });
    }

    static string[] Resolve(string[] concepts, EmojiData data) => concepts.Select(c => data.Index.Resolve(c.Trim()).Name).ToArray();

    static JsonObject Json(SortedDictionary<string, string> d) => new(d.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

    /// <summary>Forget prompts (the erased concepts) then retain prompts (given, or the first three Emojinette classes
    /// that were not erased); every concept must be one the judge knows.</summary>
    static List<(string concept, PromptRole role)> Prompts(Subject s, string[]? retain, EmojiData data, ConceptJudge j)
    {
        var kept = retain is { Length: > 0 } ? Resolve(retain, data)
            : ConceptSets.Load(ConceptSets.Emojinette).ConceptNames.Where(c => !s.Forget.Contains(c)).Take(3).ToArray();
        var both = s.Forget.Intersect(kept).ToArray();
        if (both.Length > 0) throw new ArgumentException($"{Suggestions.Shown(both[0])} is both a forget and a retain concept");
        var list = s.Forget.Select(c => (c, PromptRole.Forget)).Concat(kept.Select(c => (c, PromptRole.Retain))).ToList();
        foreach (var (c, _) in list) j.ConceptId(c);   // unknown to the judge: one clear error
        return list;
    }

    /// <summary>The UNet to audit: the run's erasure applied to a copy of the original, or the model folder's UNet.</summary>
    static UNet2DConditionModel Unet(Subject s, FoundationModel m)
    {
        if (s.Kind == "model")
        {
            var unet = new UNet2DConditionModel(m.Config.unet);
            Serialization.LoadModule(unet, Path.Combine(s.Folder, "unet.safetensors"));
            unet.to(m.Device);
            unet.Freeze();
            unet.eval();
            return unet;
        }
        using var result = ErasureResult.Load(s.Folder);
        return result.ErasedUnet(m);
    }
}
