// `workbook table`: the paper's Table 1 on the shipped model — every method variant × split × seed of a concept
// set with splits (default Emojinette), one shared evaluator, then a Markdown summary with mean ± std and 95 %
// bootstrap intervals. Resumable: finished rows in <out>/runs.csv are kept, so re-running the same command goes on
// where a stopped one ended — unless those rows were made with other weights, evaluation or shared configuration
// (<out>/config.json), which is refused rather than mixed. The exact command line is written to <out>/COMMAND.
using System.CommandLine;
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

internal static class TableCommand
{
    public static Command Create()
    {
        var set = new Option<string>("--set") { Description = "concept set with splits", DefaultValueFactory = _ => ConceptSets.Emojinette };
        var splits = new Option<string[]>("--splits") { Description = "splits to run (default: all)", AllowMultipleArgumentsPerToken = true };
        var variants = new Option<string[]>("--variants") { Description = "variants to run (default: all: ESD-x, preserve-\"\", param-reg, AP-Gumbel, AP-PGD, UCE)", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { Description = "training seeds per (variant, split): 0 … n−1", DefaultValueFactory = _ => 3 };
        var configFile = new Option<string?>("--config") { Description = "ErasureConfig JSON shared by every variant (iterations, lr, …; method/erase/seed are set per run)" };
        var evalImages = new Option<int>("--eval-images") { Description = "images per concept", DefaultValueFactory = _ => 8 };
        var evalSteps = new Option<int>("--eval-steps") { Description = "DDIM steps of the evaluation images", DefaultValueFactory = _ => 50 };
        var output = new Option<string>("--out") { Description = "result folder", DefaultValueFactory = _ => Path.Combine("runs", "table") };
        var threads = CommandSupport.ThreadsOption();
        var merge = new Option<string[]>("--merge") { Description = "only combine the runs.csv/concepts.csv of these table folders (run in parallel, e.g. one per split) into --out and summarise", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("table", "Erase every split of a concept set with every method variant and seed; write the Table-1 summary.")
            { set, splits, variants, seeds, configFile, evalImages, evalSteps, output, threads, merge };
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            if (r.GetValue(merge) is { Length: > 0 } parts)
            {
                var merged = ErasureTable.Merge(parts, r.GetValue(output)!);
                Console.WriteLine(ErasureTable.Markdown(merged));
                return;
            }
            // one thread: erasure steps are as fast as on two (bench engine), and two table processes share 2 cores
            CommandSupport.SetThreads(r.GetValue(threads));
            var file = r.GetValue(configFile);
            if (file is not null && !File.Exists(file)) throw new FileNotFoundException($"--config: no file {file}");
            var common = file is null ? new ErasureConfig() : ErasureConfig.FromJson(File.ReadAllText(file), file);
            var conceptSet = ConceptSets.Load(r.GetValue(set)!);
            if (conceptSet.Splits.Count == 0) throw new ArgumentException($"concept set '{conceptSet.Name}' has no splits");
            var data = EmojiData.Load();
            using var model = FoundationModel.Load();
            common = common with { vocabulary = common.vocabulary ?? CandidateSearch.SearchWords(data.Index, model.Tokenizer), log_every = int.MaxValue };
            var all = ErasureTable.StandardVariants(common);
            var wanted = r.GetValue(variants) is { Length: > 0 } v ? v : all.Select(a => a.name).ToArray();
            var unknown = wanted.Except(all.Select(a => a.name)).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"unknown variant(s) {string.Join(", ", unknown)}; the variants are {string.Join(", ", all.Select(a => a.name))}");
            var chosen = all.Where(a => wanted.Contains(a.name)).ToList();
            foreach (var (_, c) in chosen)      // every problem before any work
                foreach (var s in conceptSet.Splits) (c with { erase = s.Erase }).Validate(model);
            var n = r.GetValue(seeds);
            if (n < 1) throw new ArgumentException("--seeds must be ≥ 1");
            var eval = new ErasureEvalOptions
            {
                images_per_concept = r.GetValue(evalImages),
                sampling = new SamplingOptions { steps = r.GetValue(evalSteps) },
            };
            if (eval.images_per_concept < 1) throw new ArgumentException("--eval-images must be ≥ 1");

            var dir = r.GetValue(output)!;
            var configJson = System.Text.Json.JsonSerializer.Serialize(new
            {
                common = common with { vocabulary = null },
                vocabulary_words = common.vocabulary!.Count,
                variants = chosen.Select(c => new { c.name, c.config.method, c.config.preserve, lambda = c.config.EffectiveLambda }),
                seeds = n, eval, threads = torch.get_num_threads(),
                weights = new { foundation = Fingerprint.Of(FoundationModel.DefaultPath), judge = Fingerprint.Of(ConceptJudge.DefaultPath) },
                engine = ConceptErasure.Engine.TorchRuntime.Versions,
            }, ErasureConfig.Json) + "\n";
            ErasureTable.CheckResumable(dir, configJson);
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAllText(Path.Combine(dir, "COMMAND"), "./workbook table " + string.Join(" ", Environment.GetCommandLineArgs().Skip(2).Select(a => a.Contains(' ') ? $"\"{a}\"" : a)) + "\n");
            AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), configJson);

            var cancel = CommandSupport.Cancel();
            using var judge = ConceptJudge.Load();
            var rows = ErasureTable.Run(model, judge, conceptSet, chosen, Enumerable.Range(0, n).Select(i => (ulong)i).ToList(), eval, dir, Console.Out, cancel,
                r.GetValue(splits) is { Length: > 0 } sp ? sp : null);
            var md = ErasureTable.Markdown(rows);
            AtomicFile.WriteAllText(Path.Combine(dir, "table.md"), md);
            Console.WriteLine(md);
        }));
        return cmd;
    }
}
