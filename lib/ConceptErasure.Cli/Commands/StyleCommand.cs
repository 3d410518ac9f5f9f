// `workbook style runs/<style run> …`: the paper's style task (Bui et al., NeurIPS 2024, the artist table; library:
// Evaluation/StyleErasure.cs). Every run must have erased the same style prompt ("twitter style"); the original model
// and every run draw "an emoji of {a} {concept} in {style} style" for the concepts (default: the Emojinette classes) in
// the erased and in every kept style of the judge, from the same seeds, and it writes
//   <out>/<model>/style-scores.csv, done.json    one row per image: in style, CLIP, object top-1, distance to the original
//   <out>/table.md                               the artist-table form
//   <out>/manifest.json                          options, prompts, provenance, per-model seconds, peak RSS
// The original model's images are drawn first on every invocation (the distances need them; --resume keeps the runs).
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class StyleCommand
{
    public static Command Create()
    {
        var d = new StyleEvalOptions();
        var runs = new Argument<string[]>("runs") { Description = "erase run folder(s) that erased one style prompt (\"twitter style\")", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "result folder", DefaultValueFactory = _ => Path.Combine("runs", "style") };
        var set = new Option<string>("--concepts") { Description = "the concepts drawn in each style (a set name in data/concept-sets or a .json file)", DefaultValueFactory = _ => ConceptSets.Emojinette };
        var images = new Option<int>("--images") { Description = $"images per (style, concept) and model (at most {ErasureEvaluation.Chunk})", DefaultValueFactory = _ => d.images_per_prompt };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of every image", DefaultValueFactory = _ => d.sampling.steps };
        var seed = new Option<ulong>("--seed") { Description = "first seed (prompt j: seed + 1000·j + k)", DefaultValueFactory = _ => d.seed };
        var common = TaskRuns.Common.Create("its style head judges the style");
        var (model, judge, clipDir, threads, overwrite, resume) = (common.Model, common.Judge, common.Clip, common.Threads, common.Overwrite, common.Resume);
        var cmd = new Command("style", "Score erasures of an art style: style accuracy of the erased and kept styles, CLIP score, distance to the original images. " + ExitCode.Help)
        {
            runs, output, set, images, steps, seed,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            // 1. options and every argument, before any work
            var o = d with { images_per_prompt = r.GetValue(images), seed = r.GetValue(seed), sampling = d.sampling with { steps = r.GetValue(steps) } };
            if (o.images_per_prompt is < 1 or > ErasureEvaluation.Chunk) throw new ArgumentException($"--images must lie in [1, {ErasureEvaluation.Chunk}], got {o.images_per_prompt}");
            o.sampling.Validate();
            var data = EmojiData.Load();
            var setName = r.GetValue(set)!;
            var concepts = TaskRuns.ConceptNames(setName);
            var modelDir = r.GetValue(model)!;
            var weights = Fingerprint.Of(modelDir);
            using var j = ConceptJudge.Load(r.GetValue(judge));
            foreach (var c in concepts) j.ConceptId(c);
            var outDir = r.GetValue(output)!;
            var inspected = r.GetValue(runs)!.Select(a => AuditCommand.Inspect(a, modelDir, weights, null, data)).ToList();
            var erased = ErasedStyle(inspected, j);
            var styles = new[] { erased }.Concat(j.config.styles.Where(s => s != erased)).ToList();
            if (styles.Count < 2) throw new ArgumentException($"the judge knows only the style {erased}: there is no kept style to score");
            var prompts = StyleErasure.Prompts(styles, concepts, o);
            using var m = FoundationModel.Load(modelDir);   // its tokenizer decides which prompts the model can read
            foreach (var p in prompts) m.Tokenizer.EncodeStrict(p.prompt);   // unreadable words: one clear error now
            var options = new JsonObject
            {
                ["erased_style"] = erased, ["styles"] = new JsonArray(styles.Select(s => (JsonNode)s).ToArray()), ["evaluation"] = JsonSerializer.SerializeToNode(o),
                ["prompts"] = new JsonArray(prompts.Select(p => (JsonNode)p.prompt).ToArray()),
                ["weights"] = TaskRuns.Json(weights),
                ["judge_weights"] = TaskRuns.Json(Fingerprint.Of(r.GetValue(judge)!)),
            };
            var subjects = TaskRuns.Prepare(r.GetValue(runs)!, modelDir, weights, data, outDir, options, r.GetValue(resume), r.GetValue(overwrite));
            Console.WriteLine($"style: \"{erased} style\" erased; {concepts.Count} concepts × {styles.Count} styles × {o.images_per_prompt} images, {o.sampling.steps} DDIM steps, {subjects.Count + 1} models");

            // 2. the original's images, every model, then the table
            CommandSupport.SetThreads(r.GetValue(threads), Environment.ProcessorCount);
            using var clip = ClipModel.Load(r.GetValue(clipDir));
            using var scope = NewDisposeScope();
            var original = StyleErasure.Generate(m, m.Unet, prompts, o);
            var scores = TaskRuns.Run(outDir, options, subjects, m, r.GetValue(resume),
                (name, unet, dir, cancel) =>
                {
                    using var inner = NewDisposeScope();
                    var images = name == TaskRuns.OriginalName ? original : StyleErasure.Generate(m, unet, prompts, o);
                    cancel.ThrowIfCancellationRequested();
                    var s = StyleErasure.Score(name, m, j, clip, prompts, images, original);
                    StyleErasureFiles.Save(dir, s);
                    Console.WriteLine(FormattableString.Invariant($"  {name}: {erased} accuracy {s.StyleAccuracy(erased).Mean:P1}, {styles[1]} accuracy {s.StyleAccuracy(styles[1]).Mean:P1}"));
                    return s;
                },
                (name, dir) => StyleErasureFiles.Load(dir, name));
            var table = string.Concat(styles.Skip(1).Select(k => StyleErasureFiles.Markdown(scores, erased, k)));
            AtomicFile.WriteAllText(Path.Combine(outDir, "table.md"), table);
            Console.WriteLine(table);
            Console.WriteLine($"wrote {outDir}");
        }));
        return cmd;
    }

    /// <summary>The one style every run erased ("twitter style" → twitter); anything else is refused.</summary>
    static string ErasedStyle(IReadOnlyList<AuditCommand.Subject> runs, ConceptJudge judge)
    {
        string? style = null;
        foreach (var s in runs)
        {
            if (s.Forget is not [var prompt] || !prompt.EndsWith(" style", StringComparison.Ordinal) || !judge.config.styles.Contains(prompt[..^" style".Length]))
                throw new ArgumentException($"{s.Folder} erased {string.Join(", ", s.Forget)}; the style task needs runs that erased one style prompt of the judge's styles ({string.Join(", ", judge.config.styles.Select(x => $"\"{x} style\""))})");
            var name = prompt[..^" style".Length];
            if (style is not null && style != name) throw new ArgumentException($"the runs erased different styles ({style}, {name}); score one style per command");
            style = name;
        }
        return style!;
    }
}
