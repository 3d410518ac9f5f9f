// `workbook evaluate foundation`: the foundation model's quality gate (judge top-1/top-5 on Emojinette, the
// spectrum list and 200 random concepts; style accuracy; CLIP score vs real sprites; Fréchet distance), printed
// as a table and written as JSON beside the model (quality.json) or to --out.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class EvaluateCommand
{
    public static string ClipPath => ClipModel.DefaultPath;

    public static ClipModel LoadClip(string folder) => ClipModel.Load(folder);

    public static Command Create()
    {
        var evaluate = new Command("evaluate", "Evaluate models with the judges.");
        var model = new Option<string>("--model") { Description = "foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var judge = new Option<string>("--judge") { Description = "concept judge folder", DefaultValueFactory = _ => ConceptJudge.DefaultPath };
        var clip = new Option<string>("--clip") { Description = "CLIP folder (for CLIP scores)", DefaultValueFactory = _ => ClipPath };
        var perPrompt = new Option<int>("--images-per-prompt") { Description = "seeds per prompt", DefaultValueFactory = _ => new QualityGateOptions().images_per_prompt };
        var steps = new Option<int>("--steps") { Description = "DDIM steps", DefaultValueFactory = _ => 50 };
        var guidance = new Option<double>("--guidance") { Description = "guidance scale", DefaultValueFactory = _ => new SamplingOptions().guidance_scale };
        var output = new Option<string?>("--out") { Description = "report JSON (default: <model>/quality.json; with --validation <model>/validation-g<guidance>.json)" };
        var gateThreads = CommandSupport.ThreadsOption();
        var validation = new Option<int>("--validation")
            { Description = "instead of the gate, score this many concepts outside every gate group, on other seeds (for choosing checkpoints and the guidance scale); 0 = the gate" };
        var foundation = new Command("foundation", "The foundation model's quality gate.") { model, judge, clip, perPrompt, steps, guidance, validation, output, gateThreads };
        foundation.SetAction(r => CommandSupport.Guard(() =>
        {
            CommandSupport.SetThreads(r.GetValue(gateThreads), fallback: Environment.ProcessorCount);   // sampling batches: 2 threads are faster
            var o = new QualityGateOptions
            {
                images_per_prompt = r.GetValue(perPrompt),
                sampling = new SamplingOptions { steps = r.GetValue(steps), guidance_scale = r.GetValue(guidance) },
            };
            if (o.images_per_prompt < 2) throw new ArgumentException("--images-per-prompt must be ≥ 2");
            o.sampling.Validate();
            // a report with the SHA-256 of the weights it measured, written atomically
            void WriteReport(object report, string path)
            {
                var json = JsonSerializer.SerializeToNode(report, report.GetType(), FoundationConfig.Json)!.AsObject();
                json["Weights"] = JsonSerializer.SerializeToNode(new { foundation = Fingerprint.Of(r.GetValue(model)!), judge = Fingerprint.Of(r.GetValue(judge)!) });
                json["Engine"] = JsonSerializer.SerializeToNode(ConceptErasure.Engine.TorchRuntime.Versions);
                AtomicFile.WriteAllText(path, json.ToJsonString(FoundationConfig.Json) + "\n");
                Console.WriteLine($"wrote {path}");
            }
            if (r.GetValue(validation) is var nv and not 0)
            {
                if (nv < 0) throw new ArgumentException("--validation must be ≥ 0");
                using var vm = FoundationModel.Load(r.GetValue(model));
                using var vj = ConceptJudge.Load(r.GetValue(judge));
                var v = QualityGate.Validate(vm, vj, o, nv, Math.Min(nv, 20), Console.Out);
                WriteReport(v, r.GetValue(output) ?? Path.Combine(r.GetValue(model)!, $"validation-g{o.sampling.guidance_scale}.json"));
                return;
            }
            using var m = FoundationModel.Load(r.GetValue(model));
            using var j = ConceptJudge.Load(r.GetValue(judge));
            using var c = LoadClip(r.GetValue(clip)!);
            var data = EmojiData.Load();
            var report = QualityGate.Run(m, j, c, data, o, Console.Out);
            Console.WriteLine();
            Console.WriteLine("| group | prompts | images | judge top-1 | judge top-5 | CLIP top-1 | CLIP top-5 |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var g in report.Groups) Console.WriteLine($"| {g.Group} | {g.Prompts} | {g.Images} | {g.Top1:P1} | {g.Top5:P1} | {g.ClipTop1:P1} | {g.ClipTop5:P1} |");
            var ce = report.Ceiling;
            Console.WriteLine($"| ceiling: real sprites | {ce.Images / 2} | {ce.Images} | {ce.RealTop1:P1} | {ce.RealTop5:P1} | | |");
            Console.WriteLine($"| ceiling: through the autoencoder | {ce.Images / 2} | {ce.Images} | {ce.ReconstructedTop1:P1} | {ce.ReconstructedTop5:P1} | | |");
            Console.WriteLine($"style of real sprites {ce.RealStyle:P1}, through the autoencoder {ce.ReconstructedStyle:P1}");
            Console.WriteLine($"style accuracy {report.StyleAccuracy:P1} ({report.StyleImages} images); CLIP score generated {report.ClipScoreGenerated:F2} vs real {report.ClipScoreReal:F2}; " +
                              $"Fréchet distance {report.FrechetDistance:F2} (real-vs-real {report.FrechetDistanceRealSplit:F2}); {report.Seconds:F0}s");
            WriteReport(report, r.GetValue(output) ?? Path.Combine(r.GetValue(model)!, "quality.json"));
        }));
        evaluate.Subcommands.Add(foundation);

        var runFolder = new Argument<string>("run") { Description = "an erasure run folder written by `erase`" };
        var images = new Option<int>("--eval-images") { Description = "images per concept", DefaultValueFactory = _ => new ErasureEvalOptions().images_per_concept };
        var preserved = new Option<string[]>("--eval-preserved") { Description = "concepts scored for preservation (default: the other Emojinette classes)", AllowMultipleArgumentsPerToken = true };
        var evalSeed = new Option<ulong>("--eval-seed") { Description = "first seed of the evaluation images", DefaultValueFactory = _ => new ErasureEvalOptions().seed };
        var runModel = new Option<string>("--model") { Description = "foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var runJudge = new Option<string>("--judge") { Description = "concept judge folder", DefaultValueFactory = _ => ConceptJudge.DefaultPath };
        var erasure = new Command("erasure", "ESR/PSR of an erasure run folder against the original model (writes evaluation.*, grids and report.html into it).")
            { runFolder, images, preserved, evalSeed, runModel, runJudge };
        var evalThreads = CommandSupport.ThreadsOption();
        erasure.Options.Add(evalThreads);
        erasure.SetAction(r => CommandSupport.Guard(() =>
        {
            CommandSupport.SetThreads(r.GetValue(evalThreads), fallback: Environment.ProcessorCount);
            var dir = r.GetValue(runFolder)!;
            if (r.GetValue(images) is < 1 or > ErasureEvaluation.MaxImagesPerConcept)
                throw new ArgumentException($"--eval-images must lie in [1, {ErasureEvaluation.MaxImagesPerConcept}], got {r.GetValue(images)}");
            using var result = Erasure.ErasureResult.Load(dir);
            using var m = FoundationModel.Load(r.GetValue(runModel));
            using var j = ConceptJudge.Load(r.GetValue(runJudge));
            var cancel = CommandSupport.Cancel();
            Console.WriteLine(EraseCommand.EvaluateRun(dir, m, j, result, new ErasureEvalOptions { images_per_concept = r.GetValue(images), seed = r.GetValue(evalSeed) }, r.GetValue(preserved), cancel));
            result.Manifest["evaluation"] = "done";
            EraseCommand.WriteManifest(dir, result.Manifest);
        }));
        evaluate.Subcommands.Add(erasure);
        return evaluate;
    }
}
