// `workbook erase "delivery truck"`: the workbook's main job. Erases one or more concepts from the foundation
// model (default: Adversarial Preservation with Gumbel-Softmax on the cross-attention group, the paper's
// method), then writes a run folder:
//   unet-delta.safetensors  the trained parameters only      manifest.json  method, every hyper-parameter, seed,
//   history.csv             per-step losses and choices       versions, wall time, peak memory
//   evaluation.json / .csv  ESR/PSR before and after          before.png, after.png  same seeds, both models
//   report.html             a one-page summary
// Unknown concepts, invalid hyper-parameters and an unusable --out (a file, another run's folder, not writable, a full
// disk) are refused before any work. manifest.json is written first (status "Running") and rewritten atomically after
// each phase, so a folder always says what it holds: `status` is how the erasure ended (Running, Completed, Cancelled,
// NonFiniteLoss) and `evaluation` whether ESR/PSR are there (pending, done, skipped, cancelled). Ctrl-C/SIGTERM stop
// after the current update or evaluation batch. Exit codes: 0 done, 1 bad input, 3 a loss became NaN, 130 stopped.
using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class EraseCommand
{
    public static Command Create()
    {
        var d = new ErasureConfig();
        var concepts = new Argument<string[]>("concepts") { Description = "emoji concept(s) to erase, e.g. \"delivery truck\" (or the config's `erase`)", Arity = ArgumentArity.ZeroOrMore };
        var configFile = new Option<string?>("--config") { Description = "an ErasureConfig JSON file (unknown keys are errors); the options below override it" };
        var method = new Option<string>("--method") { Description = $"{string.Join(" | ", ErasureConfig.Methods.All)}", DefaultValueFactory = _ => d.method };
        var group = new Option<string>("--params") { Description = "trained parameter group: xattn (ESD-x) | noxattn (ESD-u) | full", DefaultValueFactory = _ => d.parameters };
        var iterations = new Option<int>("--iterations") { Description = "θ′ updates", DefaultValueFactory = _ => d.iterations };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of θ′", DefaultValueFactory = _ => d.lr };
        var lambda = new Option<double?>("--lambda") { Description = "weight of the preservation/regularisation term (default: the method's)" };
        var eta = new Option<double>("--eta") { Description = "negative guidance η of the ESD target", DefaultValueFactory = _ => d.eta };
        var preserve = new Option<string[]>("--preserve") { Description = "prompts preserved by fixed_preservation", AllowMultipleArgumentsPerToken = true };
        var targets = new Option<string[]>("--targets") { Description = "one erasure target c_n per erased concept, in the same order (default: \"\" for all)", AllowMultipleArgumentsPerToken = true };
        var topK = new Option<int>("--top-k") { Description = "K nearest words of R (adversarial preservation)", DefaultValueFactory = _ => d.top_k };
        var candidates = new Option<int>("--candidates") { Description = "N candidates after k-means thinning", DefaultValueFactory = _ => d.candidates };
        var temperature = new Option<double>("--temperature") { Description = "Gumbel-Softmax temperature", DefaultValueFactory = _ => d.temperature };
        var adversaryLr = new Option<double>("--adversary-lr") { Description = "Adam learning rate of π (0 = uniform π: random candidates)", DefaultValueFactory = _ => d.adversary_lr };
        var innerSteps = new Option<int>("--inner-steps") { Description = "ascent steps of π per θ′ update", DefaultValueFactory = _ => d.inner_steps };
        var pgdSteps = new Option<int>("--pgd-steps") { Description = "PGD ascent steps of c_a per θ′ update", DefaultValueFactory = _ => d.pgd_steps };
        var pgdLr = new Option<double>("--pgd-lr") { Description = "PGD step size (relative to ‖c_a‖)", DefaultValueFactory = _ => d.pgd_lr };
        var sampler = new Option<string>("--sampler") { Description = "which UNet samples z_t: trainable (ESD) | frozen", DefaultValueFactory = _ => d.sampler };
        var ztReuse = new Option<int>("--zt-reuse") { Description = "draws sharing one start noise (1 = fresh z_T and trajectory every draw)", DefaultValueFactory = _ => d.zt_reuse };
        var ddimSteps = new Option<int>("--ddim-steps") { Description = "DDIM grid of z_t sampling", DefaultValueFactory = _ => d.ddim_steps };
        var lossSpace = new Option<string>("--loss-space") { Description = "x0 (official code) | epsilon (the paper's equations)", DefaultValueFactory = _ => d.loss_space };
        var seed = new Option<ulong>("--seed") { Description = "seed of every draw", DefaultValueFactory = _ => d.seed };
        var model = new Option<string>("--model") { Description = "foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var judge = new Option<string>("--judge") { Description = "concept judge folder", DefaultValueFactory = _ => ConceptJudge.DefaultPath };
        var output = new Option<string?>("--out") { Description = "run folder (default runs/erase/<concepts>-<method>-s<seed>)" };
        var evalImages = new Option<int>("--eval-images") { Description = "images per concept for ESR/PSR (0 = no evaluation)", DefaultValueFactory = _ => 8 };
        var evalPreserved = new Option<string[]>("--eval-preserved") { Description = "concepts scored for preservation (default: the other Emojinette classes)", AllowMultipleArgumentsPerToken = true };
        var evalSeed = new Option<ulong>("--eval-seed") { Description = "first seed of the evaluation images (tune on others than the default)", DefaultValueFactory = _ => new ErasureEvalOptions().seed };
        var threads = CommandSupport.ThreadsOption();
        var overwrite = CommandSupport.OverwriteOption();
        var resume = new Option<bool>("--resume") { Description = "continue the checkpoint in --out (a run that was stopped or killed), with the same options" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "updates between checkpoints of θ′ and the method's state (0 = only when stopped)", DefaultValueFactory = _ => 25 };
        var cmd = new Command("erase", "Erase concepts from the foundation model and evaluate the result. " + ExitCode.Help)
        {
            concepts, configFile, method, group, iterations, lr, lambda, eta, preserve, targets, topK, candidates, temperature, adversaryLr, innerSteps, pgdSteps, pgdLr,
            sampler, ztReuse, ddimSteps, lossSpace, seed, model, judge, output, overwrite, resume, checkpointEvery, evalImages, evalPreserved, evalSeed, threads,
        };

        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            CommandSupport.SetThreads(r.GetValue(threads));
            // 1. the config: defaults ← --config file ← options given on the command line
            var file = r.GetValue(configFile);
            if (file is not null && !File.Exists(file)) throw new FileNotFoundException($"--config: no file {file}");
            var config = file is null ? new ErasureConfig() : ErasureConfig.FromJson(File.ReadAllText(file), file);
            T Pick<T>(Option<T> o, T current) => r.GetResult(o) is { Implicit: false } ? r.GetValue(o)! : current;
            var named = r.GetValue(concepts) ?? [];
            config = config with
            {
                erase = named.Length > 0 ? named.Select(c => c.Trim()).ToArray() : config.erase,
                method = Pick(method, config.method), parameters = Pick(group, config.parameters), iterations = Pick(iterations, config.iterations),
                lr = Pick(lr, config.lr), lambda = Pick(lambda, config.lambda), eta = Pick(eta, config.eta), preserve = Pick(preserve, config.preserve.ToArray()),
                targets = r.GetResult(targets) is { Implicit: false } ? r.GetValue(targets) : config.targets,
                top_k = Pick(topK, config.top_k), candidates = Pick(candidates, config.candidates), temperature = Pick(temperature, config.temperature), adversary_lr = Pick(adversaryLr, config.adversary_lr),
                inner_steps = Pick(innerSteps, config.inner_steps), pgd_steps = Pick(pgdSteps, config.pgd_steps), pgd_lr = Pick(pgdLr, config.pgd_lr),
                sampler = Pick(sampler, config.sampler), zt_reuse = Pick(ztReuse, config.zt_reuse), ddim_steps = Pick(ddimSteps, config.ddim_steps),
                loss_space = Pick(lossSpace, config.loss_space), seed = Pick(seed, config.seed),
            };
            if (config.erase.Count == 0) throw new ArgumentException("name at least one concept to erase, e.g. workbook erase \"delivery truck\"");
            var data = EmojiData.Load();
            // a concept may be given in another case or as the emoji itself: the run uses its canonical name
            // … or a style prompt "<style> style" of a style the model was trained on (the style task: erase an art style)
            var resolved = config.erase.Select(c => StylePrompt(c) ?? data.Index.Resolve(c).Name).ToArray();
            foreach (var (given, name) in config.erase.Zip(resolved).Where(p => p.First != p.Second))
                Console.WriteLine($"'{Suggestions.Shown(given)}' is the concept '{name}'");
            config = config with { erase = resolved };
            var erase = config.erase.ToArray();
            var evalN = r.GetValue(evalImages);
            if (erase.Any(c => StylePrompt(c) is not null))
            {
                // ESR/PSR score concepts; a style's scores are StyleErasure's (notebook 04), not this command's
                if (r.GetResult(evalImages) is { Implicit: false } && evalN > 0)
                    throw new ArgumentException("--eval-images scores erased concepts (ESR/PSR); a style prompt has none: give --eval-images 0 (score styles with Evaluation/StyleErasure, notebook 04)");
                if (evalN > 0) Console.WriteLine("style prompt erased: no ESR/PSR evaluation (score styles with Evaluation/StyleErasure, notebook 04)");
                evalN = 0;
            }
            if (evalN < 0 || evalN > ErasureEvaluation.MaxImagesPerConcept)
                throw new ArgumentException($"--eval-images must lie in [0, {ErasureEvaluation.MaxImagesPerConcept}] (images per concept), got {evalN}");

            using var m = FoundationModel.Load(r.GetValue(model));
            config = config with { vocabulary = config.vocabulary ?? CandidateSearch.SearchWords(data.Index, m.Tokenizer) };
            config.Validate(m);   // invalid hyper-parameters: one message listing every problem, before any work
            using var j = evalN > 0 ? ConceptJudge.Load(r.GetValue(judge)) : null;
            var dir = r.GetValue(output) ?? Path.Combine("runs", "erase", $"{CommandSupport.Slug(string.Join("+", erase))}-{config.method}-s{config.seed}");
            if (r.GetValue(checkpointEvery) < 0) throw new ArgumentException("--checkpoint-every must be ≥ 0");
            var checkpointing = new ErasureCheckpointing(dir, r.GetValue(checkpointEvery), r.GetValue(resume));
            var cancel = CommandSupport.Cancel();
            ErasureResult? finished = null;
            if (checkpointing.Resume)
            {
                if (r.GetValue(overwrite)) throw new ArgumentException("--resume continues a run and --overwrite discards it: give one of them");
                // what the folder holds decides what is left to do: the erasure (from its checkpoint) or only the evaluation
                finished = ResumePoint(dir, config, checkpointing);
                RunFolder.Prepare(dir, overwrite: false, allowExisting: true);
            }
            else RunFolder.Prepare(dir, r.GetValue(overwrite));
            if (finished is null)
                WriteManifest(dir, new JsonObject
                {
                    ["status"] = "Running", ["evaluation"] = "pending", ["erase"] = new JsonArray(erase.Select(c => (JsonNode?)c).ToArray()),
                    ["method"] = config.method, ["started_utc"] = DateTime.UtcNow.ToString("O"),
                    ["config"] = JsonSerializer.SerializeToNode(config, ErasureConfig.Json),
                    ["checkpoint"] = "checkpoint/ (θ′ and the method's state, every " + checkpointing.Every + " updates; `erase … --resume` continues it)",
                });
            else Console.WriteLine($"{dir}: the erasure finished before; evaluating it");

            using var result = finished ?? Eraser.Run(m, config, Console.Out, cancel, checkpointing: checkpointing);
            if (finished is null)
            {
                result.Manifest["evaluation"] = result.Status != ErasureStatus.Completed ? "skipped" : j is null ? "skipped" : "pending";
                result.Save(dir);
                if (result.Status == ErasureStatus.Completed) checkpointing.Remove();   // the results hold everything now
                Console.WriteLine($"{result.Status}: {result.Message}; wrote {dir}");
            }
            if (result.Status == ErasureStatus.NonFiniteLoss)
                throw new ConceptErasure.Training.NonFiniteLossException($"erasure stopped: {result.Message} (the run folder holds those parameters)");
            if (result.Status == ErasureStatus.Cancelled) throw new InterruptedException($"erasure stopped: {result.Message}; {dir} holds the updates done");
            if (j is null) return;

            CommandSupport.SetSamplingThreads(r.GetValue(threads));
            try
            {
                var summary = EvaluateRun(dir, m, j, result, new ErasureEvalOptions { images_per_concept = evalN, seed = r.GetValue(evalSeed) }, r.GetValue(evalPreserved), cancel);
                result.Manifest["evaluation"] = "done";
                WriteManifest(dir, result.Manifest);
                Console.WriteLine(summary);
                Console.WriteLine($"report: {Path.Combine(dir, "report.html")}");
            }
            catch (OperationCanceledException)
            {
                result.Manifest["evaluation"] = "cancelled";
                WriteManifest(dir, result.Manifest);
                throw new InterruptedException($"evaluation stopped; {dir} holds the erased parameters (evaluation cancelled)");
            }
        }));
        return cmd;
    }

    /// <summary>ESR/PSR of a finished run against the original model (same seeds), the before/after grids and the
    /// HTML report, written into the run folder. Preserved concepts default to the Emojinette classes not erased.</summary>
    /// <summary>For --resume: the finished erasure when only its evaluation is left (its results are loaded), or null
    /// when the erasure itself continues from its checkpoint; a folder with neither is one clear error.</summary>
    static ErasureResult? ResumePoint(string dir, ErasureConfig config, ErasureCheckpointing checkpointing)
    {
        var manifestPath = Path.Combine(dir, ErasureResult.ManifestFile);
        if (!File.Exists(manifestPath)) throw new InvalidOperationException($"--resume: {dir} holds no erasure run (no {ErasureResult.ManifestFile})");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))?.AsObject() ?? throw new InvalidDataException($"{manifestPath}: empty");
        if (!JsonNode.DeepEquals(manifest["config"], JsonSerializer.SerializeToNode(config, ErasureConfig.Json)))
            throw new ArgumentException($"--resume: {dir} was made with another erasure config (see its manifest.json); resume with the same options");
        var status = (string?)manifest["status"];
        if (status == nameof(ErasureStatus.Completed))
        {
            if ((string?)manifest["evaluation"] == "done") throw new InvalidOperationException($"--resume: {dir} is complete (erased and evaluated); nothing to continue");
            return ErasureResult.Load(dir);
        }
        if (!new ConceptErasure.Training.Checkpoint(dir).Exists)
            throw new InvalidOperationException($"--resume: {dir} ({status}) has no checkpoint yet (it stopped before its first, every {checkpointing.Every} updates): run it again with --overwrite");
        return null;
    }

    /// <summary>"twitter style" → itself when the style is one the shipped model was trained on (the default, openly
    /// licensed styles); null for anything else.</summary>
    internal static string? StylePrompt(string prompt)
    {
        var p = prompt.Trim().ToLowerInvariant();
        if (!p.EndsWith(" style", StringComparison.Ordinal)) return null;
        var name = p[..^" style".Length].Trim();
        return EmojiStyle.Default.Any(s => s.Name == name) ? $"{name} style" : null;
    }

    internal static void WriteManifest(string dir, JsonObject manifest) =>
        AtomicFile.WriteAllText(Path.Combine(dir, ErasureResult.ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>Evaluates and writes evaluation.json/.csv, before/after.png and report.html; returns the summary lines.</summary>
    internal static string EvaluateRun(string dir, FoundationModel m, ConceptJudge j, ErasureResult result, ErasureEvalOptions o, string[]? evalPreserved,
        CancellationToken cancel = default)
    {
        var erase = result.Config.erase.ToArray();
        var preserved = evalPreserved is { Length: > 0 } p ? p
            : ConceptSets.Load(ConceptSets.Emojinette).ConceptNames.Where(c => !erase.Contains(c)).ToArray();
        using var erased = result.ErasedUnet(m);
        Console.WriteLine("evaluating the original model…");
        var before = ErasureEvaluation.Score(m, m.Unet, j, erase, preserved, o, Console.Out, cancel);
        Console.WriteLine("evaluating the erased model…");
        var after = ErasureEvaluation.Score(m, erased, j, erase, preserved, o, Console.Out, cancel);
        WriteEvaluation(dir, before, after, o);
        WriteGrids(dir, m, erased, erase.Concat(preserved.Take(4)).ToList(), o);
        WriteReport(dir, result.Config, result, before, after);
        // one line per erased concept that shows the effect whatever the judge's top-1 was: how often the concept is
        // in its top 5, and what it answered, before and after
        var lines = before.Concepts.Zip(after.Concepts).Where(p => p.First.Role == "erased").Select(p =>
            $"{p.First.Concept}: in the judge's top 5 for {p.First.Top5:P0} → {p.Second.Top5:P0} of the images; " +
            $"it saw {p.First.AnswerSummary()} before, {p.Second.AnswerSummary()} after");
        return string.Join("\n", lines) + "\n" +
               $"ESR-1 {before.Esr1:P1} → {after.Esr1:P1}, ESR-5 {before.Esr5:P1} → {after.Esr5:P1}, " +
               $"PSR-1 {before.Psr1:P1} → {after.Psr1:P1}, PSR-5 {before.Psr5:P1} → {after.Psr5:P1} (erasure success ESR, preservation PSR)";
    }

    static void WriteEvaluation(string dir, ErasureScores before, ErasureScores after, ErasureEvalOptions o)
    {
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.json"),
            JsonSerializer.Serialize(new { options = o, before, after }, FoundationConfig.Json) + "\n");
        var csv = new StringBuilder("model,concept,role,images,top1,top5\n");
        foreach (var (name, s) in new[] { ("original", before), ("erased", after) })
            foreach (var c in s.Concepts)
                csv.Append(FormattableString.Invariant($"{name},\"{c.Concept}\",{c.Role},{c.Images},{c.Top1:F4},{c.Top5:F4}\n"));
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.csv"), csv.ToString());
    }

    static void WriteGrids(string dir, FoundationModel m, UNet2DConditionModel erased, IReadOnlyList<string> concepts, ErasureEvalOptions o)
    {
        var pipe = new StableDiffusionPipeline(m);
        foreach (var (name, unet) in new[] { ("before", m.Unet), ("after", erased) })
        {
            var rows = new List<IReadOnlyList<RgbaImage?>>();
            var i = 0;
            foreach (var c in concepts)
            {
                using var scope = NewDisposeScope();
                var prompt = o.template.Replace("{a}", Captions.Article(c)).Replace("{concept}", c);
                rows.Add(GenerateCommand.ToImages(QualityGate.Generate(pipe, unet, prompt, 4, o.sampling, o.seed + 1000UL * (ulong)i++)));
            }
            RasterGrid.Save(RasterGrid.Compose(rows, concepts, null, new RasterGridOptions(Scale: 3)), Path.Combine(dir, name + ".png"));
        }
    }

    static void WriteReport(string dir, ErasureConfig c, ErasureResult result, ErasureScores before, ErasureScores after)
    {
        static string P(double v) => double.IsNaN(v) ? "–" : v.ToString("P1", System.Globalization.CultureInfo.InvariantCulture);
        var rows = string.Concat(before.Concepts.Zip(after.Concepts).Select(p =>
            $"<tr><td>{System.Net.WebUtility.HtmlEncode(p.First.Concept)}</td><td>{p.First.Role}</td><td>{P(p.First.Top1)}</td><td>{P(p.Second.Top1)}</td><td>{P(p.First.Top5)}</td><td>{P(p.Second.Top5)}</td>" +
            $"<td>{System.Net.WebUtility.HtmlEncode(p.First.AnswerSummary())}</td><td>{System.Net.WebUtility.HtmlEncode(p.Second.AnswerSummary())}</td></tr>\n"));
        var html = $"""
            <!doctype html><html><head><meta charset="utf-8"><title>erase {System.Net.WebUtility.HtmlEncode(string.Join(", ", c.erase))}</title>
            <style>body{"{"}font-family:sans-serif;max-width:60em;margin:2em auto{"}"} td,th{"{"}padding:2px 8px;text-align:left{"}"} img{"{"}image-rendering:pixelated{"}"}</style></head><body>
            <h1>Erasing {System.Net.WebUtility.HtmlEncode(string.Join(", ", c.erase))}</h1>
            <p>{c.method}, parameters <code>{c.parameters}</code>, {result.IterationsDone} updates, lr {c.lr}, λ {c.EffectiveLambda}, seed {c.seed}. Status: {result.Status}.</p>
            <table><tr><th></th><th>ESR-1</th><th>ESR-5</th><th>PSR-1</th><th>PSR-5</th></tr>
            <tr><td>original</td><td>{P(before.Esr1)}</td><td>{P(before.Esr5)}</td><td>{P(before.Psr1)}</td><td>{P(before.Psr5)}</td></tr>
            <tr><td>erased</td><td>{P(after.Esr1)}</td><td>{P(after.Esr5)}</td><td>{P(after.Psr1)}</td><td>{P(after.Psr5)}</td></tr></table>
            <h2>Per concept (judge top-1 / top-5, original → erased)</h2>
            <table><tr><th>concept</th><th>role</th><th>top-1 before</th><th>top-1 after</th><th>top-5 before</th><th>top-5 after</th><th>judge's answers before</th><th>after</th></tr>
            {rows}</table>
            <h2>Same seeds, before and after</h2><p><img src="before.png" alt="before"> <img src="after.png" alt="after"></p>
            <p>Files: <code>unet-delta.safetensors</code>, <code>manifest.json</code>, <code>history.csv</code>, <code>evaluation.json</code>, <code>evaluation.csv</code>.</p>
            </body></html>
            """;
        AtomicFile.WriteAllText(Path.Combine(dir, "report.html"), html);
    }
}
