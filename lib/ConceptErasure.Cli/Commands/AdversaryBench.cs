// `workbook bench adversary`: AP-Gumbel's sampling, one z_a per UNet call (batch_ascent = false) against the batched
// form (batch_ascent = true: each update's ascent z_a sampled together with the next θ′ step's z_t and z_a), side by
// side in one process — the variants alternate, each repetition running both — on the shipped model. It also checks
// that the two compute the same run: the same draws and candidates row by row, losses equal up to float rounding.
// A table for people to read, not a test.
using System.CommandLine;
using System.Diagnostics;
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class AdversaryBench
{
    public static Command Create()
    {
        var concepts = new Argument<string[]>("concepts") { Description = "concepts to erase", DefaultValueFactory = _ => ["delivery truck"] };
        var updates = new Option<int>("--updates") { Description = "θ′ updates per run", DefaultValueFactory = _ => 30 };
        var reps = new Option<int>("--reps") { Description = "repetitions of the pair (median reported)", DefaultValueFactory = _ => 3 };
        var adversaryLr = new Option<double>("--adversary-lr") { Description = "π's learning rate (a faster adversary changes more predicted selections)", DefaultValueFactory = _ => new ErasureConfig().adversary_lr };
        var innerSteps = new Option<int>("--inner-steps") { Description = "ascent steps of π per θ′ update (each one more batched row)", DefaultValueFactory = _ => new ErasureConfig().inner_steps };
        var model = new Option<string>("--model") { Description = "foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var threads = CommandSupport.ThreadsOption();
        var cmd = new Command("adversary", "AP-Gumbel updates/s with and without batched ascent sampling, side by side, and whether both compute the same run.")
            { concepts, updates, reps, adversaryLr, innerSteps, model, threads };
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            CommandSupport.SetThreads(r.GetValue(threads));
            var n = r.GetValue(updates);
            var repetitions = r.GetValue(reps);
            if (n < 1 || repetitions < 1) throw new ArgumentException("--updates and --reps must be ≥ 1");
            var data = Data.EmojiData.Load();
            using var m = FoundationModel.Load(r.GetValue(model)!);
            var config = new ErasureConfig
            {
                method = ErasureConfig.Methods.AdversarialPreservation, erase = r.GetValue(concepts)!, iterations = n, log_every = int.MaxValue,
                adversary_lr = r.GetValue(adversaryLr), inner_steps = r.GetValue(innerSteps), vocabulary = CandidateSearch.SearchWords(data.Index, m.Tokenizer),
            }.Validate(m);
            Console.WriteLine($"AP-Gumbel on '{string.Join("', '", config.erase)}', {n} updates, π lr {config.adversary_lr}, {config.inner_steps} inner step(s), {TorchSharp.torch.get_num_threads()} thread(s); median of {repetitions} (the variants alternate)");
            Console.WriteLine();
            var runs = new Dictionary<bool, List<(double loop, double sampling, long predicted, long resampled)>> { [false] = [], [true] = [] };
            var histories = new Dictionary<bool, IReadOnlyList<ErasureStep>>();
            for (var rep = 0; rep < repetitions; rep++)
                foreach (var batched in new[] { false, true })
                {
                    using var scope = NewDisposeScope();
                    using var result = Eraser.Run(m, config with { batch_ascent = batched }).ThrowIfIncomplete();
                    var timing = result.Manifest["timing"]!;
                    var facts = result.Manifest["method_facts"]!["batched_sampling"]!;
                    runs[batched].Add(((double)timing["loop_seconds"]!, (double?)timing["split_seconds"]![ErasureMethod.Sections.Sampling] ?? 0,
                        (long)facts["predicted"]!, (long)facts["resampled"]!));
                    histories[batched] = result.History;
                }
            static double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }
            Console.WriteLine("| sampling | updates/s | loop s | sampling s (share) | predicted c_a kept |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (batched, list) in runs)
            {
                var loop = Median(list.Select(x => x.loop));
                var sampling = Median(list.Select(x => x.sampling));
                var kept = batched ? $"{list[^1].predicted - list[^1].resampled} of {list[^1].predicted}" : "—";
                Console.WriteLine(FormattableString.Invariant($"| {(batched ? "batched (batch_ascent true)" : "one call each (false)")} | {n / loop:F3} | {loop:F1} | {sampling:F1} ({sampling / loop:P0}) | {kept} |"));
            }
            var speedup = Median(runs[false].Select(x => x.loop)) / Median(runs[true].Select(x => x.loop));
            var (a, b) = (histories[false], histories[true]);
            var same = a.Count == b.Count && a.Zip(b).All(p => (p.First.Step, p.First.Phase, p.First.Concept, p.First.T, p.First.Candidate) == (p.Second.Step, p.Second.Phase, p.Second.Concept, p.Second.T, p.Second.Candidate));
            var worst = a.Zip(b).Max(p => Math.Abs(p.First.Loss - p.Second.Loss) / Math.Max(Math.Abs(p.First.Loss), 1e-30));
            Console.WriteLine();
            Console.WriteLine(FormattableString.Invariant($"speed-up {speedup:F2}×; same draws and candidates in every row: {(same ? "yes" : "NO")}; largest relative loss difference {worst:E1}"));
        }));
        return cmd;
    }
}
