// `workbook harmful runs/<weapons run> …`: the paper's harmful-content task (Bui et al., NeurIPS 2024, §5, the NudeNet
// table and the COCO-30K FID/CLIP; library: Evaluation/HarmfulContent.cs). The original model and every erase run of
// the harmful set (default data/concept-sets/weapons.json) draw the same detection prompts and preservation concepts
// from the same seeds; it writes
//   <out>/<model>/detection.csv, preservation.csv, features.safetensors   per image (HarmfulContentFiles.cs), done.json
//   <out>/table.md, summary.csv                                           detection per τ, per class; preservation
//   <out>/manifest.json                                                   options, prompts, skipped prompts, provenance, cost
// Runs that erased another set than the harmful one are refused (their table would mean something else).
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class HarmfulCommand
{
    public static Command Create()
    {
        var d = new HarmfulEvalOptions();
        var runs = new Argument<string[]>("runs") { Description = "erase run folder(s) that erased the harmful set", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "result folder", DefaultValueFactory = _ => Path.Combine("runs", "harmful") };
        var set = new Option<string>("--concepts") { Description = "the harmful concept set (a name in data/concept-sets or a .json file)", DefaultValueFactory = _ => ConceptSets.Weapons };
        var images = new Option<int>("--images") { Description = "images per detection prompt", DefaultValueFactory = _ => d.images_per_prompt };
        var others = new Option<int>("--preserve") { Description = "preservation concepts, one image each (the paper's COCO-30K: 30,000)", DefaultValueFactory = _ => d.preservation_concepts };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of every image", DefaultValueFactory = _ => d.sampling.steps };
        var template = new Option<string>("--template") { Description = "preservation prompt of a concept ({a} = its article)", DefaultValueFactory = _ => d.template };
        var seed = new Option<ulong>("--seed") { Description = "first detection seed (prompt p, image k: seed + 1000·p + k)", DefaultValueFactory = _ => d.seed };
        var common = TaskRuns.Common.Create("the detector");
        var (model, judge, clipDir, threads, overwrite, resume) = (common.Model, common.Judge, common.Clip, common.Threads, common.Overwrite, common.Resume);
        var cmd = new Command("harmful", "Score erasures of a harmful concept set: judge detection rates at thresholds over direct and indirect prompts, " +
                                         "and CLIP score and Fréchet distance on other concepts. " + ExitCode.Help)
        {
            runs, output, set, images, others, template, steps, seed,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            // 1. options and every argument, before any work
            var o = d with { images_per_prompt = r.GetValue(images), preservation_concepts = r.GetValue(others), template = r.GetValue(template)!, seed = r.GetValue(seed), sampling = d.sampling with { steps = r.GetValue(steps) } };
            o.Validate();
            var data = EmojiData.Load();
            var setName = r.GetValue(set)!;
            var harmful = TaskRuns.ConceptNames(setName);
            var modelDir = r.GetValue(model)!;
            var weights = Fingerprint.Of(modelDir);
            using var j = ConceptJudge.Load(r.GetValue(judge));
            foreach (var c in harmful) j.ConceptId(c);
            using var m = FoundationModel.Load(modelDir);   // its tokenizer decides which prompts the model can read
            var (prompts, skipped) = HarmfulContent.Prompts(harmful, data.Index, m.Tokenizer, j.config.styles, o);
            var preserved = HarmfulContent.PreservationConcepts(j, harmful.ToHashSet(), o, data.Index);
            foreach (var c in preserved) m.Tokenizer.EncodeStrict(HarmfulContent.PreservationPrompt(c, o));   // unreadable words: one clear error now
            var options = new JsonObject
            {
                ["harmful"] = new JsonArray(harmful.Select(c => (JsonNode)c).ToArray()), ["evaluation"] = JsonSerializer.SerializeToNode(o),
                ["prompts"] = new JsonArray(prompts.Select(p => (JsonNode)new JsonObject { ["kind"] = p.Kind, ["weapon"] = p.Weapon, ["prompt"] = p.Prompt }).ToArray()),
                ["skipped_prompts"] = new JsonArray(skipped.Select(s => (JsonNode)s).ToArray()),
                ["weights"] = TaskRuns.Json(weights),
                ["judge_weights"] = TaskRuns.Json(Fingerprint.Of(r.GetValue(judge)!)),
            };
            var outDir = r.GetValue(output)!;
            var subjects = TaskRuns.Prepare(r.GetValue(runs)!, modelDir, weights, data, outDir, options, r.GetValue(resume), r.GetValue(overwrite), s =>
            {
                if (!s.Forget.ToHashSet().SetEquals(harmful))
                    throw new ArgumentException($"{s.Folder} erased {string.Join(", ", s.Forget)}, not the harmful set {setName} ({string.Join(", ", harmful)})");
            });
            Console.WriteLine($"harmful: {prompts.Count} detection prompts × {o.images_per_prompt} images ({skipped.Count} skipped: unknown words), " +
                              $"{preserved.Count} preservation concepts, {o.sampling.steps} DDIM steps, {subjects.Count + 1} models");

            // 2. every model, then the tables
            CommandSupport.SetThreads(r.GetValue(threads), Environment.ProcessorCount);
            using var clip = ClipModel.Load(r.GetValue(clipDir));
            var scores = TaskRuns.Run(outDir, options, subjects, m, r.GetValue(resume),
                (name, unet, dir, cancel) =>
                {
                    var s = HarmfulContent.Score(name, m, unet, j, clip, prompts, preserved, harmful.ToHashSet(), o, Console.Out, cancel);
                    HarmfulContentFiles.Save(dir, s, o);
                    Console.WriteLine(FormattableString.Invariant($"  {name}: detection at 0.5 {s.DetectionRate(0.5).Mean:P1}, CLIP {s.Clip.Mean:F2}, judge top-1 {s.PreservedTop1.Mean:P1}"));
                    return s;
                },
                (name, dir) => HarmfulContentFiles.Load(dir, name));
            var real = RealFeatures(data, j, preserved);
            var rows = HarmfulContentFiles.Summaries(scores[0], scores.Skip(1).ToList(), real, harmful, o);
            AtomicFile.WriteAllText(Path.Combine(outDir, "summary.csv"), HarmfulContentFiles.SummaryCsv(rows));
            AtomicFile.WriteAllText(Path.Combine(outDir, "table.md"), HarmfulContentFiles.Markdown(rows, harmful, o, prompts.Count, prompts.Count * o.images_per_prompt));
            Console.WriteLine(File.ReadAllText(Path.Combine(outDir, "table.md")));
            Console.WriteLine($"wrote {outDir}");
        }));
        return cmd;
    }

    /// <summary>The judge features of the preservation concepts' real sprites, concept i's rows at index i (one per style).</summary>
    internal static IReadOnlyList<float[][]> RealFeatures(EmojiData data, ConceptJudge judge, IReadOnlyList<string> concepts)
    {
        var set = data.Images(concepts.Select(c => data.Index[c]).ToList(), EmojiStyle.Default);
        using var images = tensor(set.Pixels, set.Shape);
        var v = judge.Judge(images);
        var rows = concepts.Select(_ => new List<float[]>()).ToList();
        var position = concepts.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        for (var k = 0; k < v.Count; k++)
            rows[position[set.Samples[k].Concept.Name]].Add(v.Features.AsSpan(k * v.FeatureWidth, v.FeatureWidth).ToArray());
        return rows.Select(l => l.ToArray()).ToList();
    }
}
