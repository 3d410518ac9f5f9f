// `workbook generate "prompt" ["prompt" …]`: text → PNG grid (one row per prompt, one column per seed) from the
// shipped foundation model (or --model FOLDER), with DDIM steps, guidance scale and seed.
using System.CommandLine;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Evaluation;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var prompts = new Argument<string[]>("prompts") { Description = "one or more prompts, e.g. \"delivery truck, twitter style\"", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model") { Description = "foundation model folder", DefaultValueFactory = _ => FoundationModel.DefaultPath };
        var output = new Option<string>("--out") { Description = "PNG file to write", DefaultValueFactory = _ => "generated.png" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the first image; image k uses seed + k", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = "images per prompt", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps", DefaultValueFactory = _ => 50 };
        var guidance = new Option<double>("--guidance") { Description = "classifier-free guidance scale", DefaultValueFactory = _ => new SamplingOptions().guidance_scale };
        var scale = new Option<int>("--scale") { Description = "pixels per image pixel in the grid", DefaultValueFactory = _ => 3 };
        var erased = new Option<string?>("--erased") { Description = "an erasure run folder (from `erase`): generate with its erased UNet" };
        var threads = CommandSupport.ThreadsOption();
        var cmd = new Command("generate", "Generate images for prompts and write them as a PNG grid.") { prompts, model, erased, output, seed, count, steps, guidance, scale, threads };
        cmd.SetAction(r => CommandSupport.Guard(() =>
        {
            CommandSupport.SetThreads(r.GetValue(threads), fallback: Environment.ProcessorCount);   // sampling: 2 threads are faster
            var n = r.GetValue(count);
            if (n is < 1 or > 64) throw new ArgumentException("--count must be in [1, 64]");
            var o = new SamplingOptions { steps = r.GetValue(steps), guidance_scale = r.GetValue(guidance) };
            o.Validate();
            using var m = FoundationModel.Load(r.GetValue(model));
            using var run = r.GetValue(erased) is { } folder ? Erasure.ErasureResult.Load(folder) : null;
            using var unet = run?.ErasedUnet(m);
            var pipe = new StableDiffusionPipeline(m);
            var ps = r.GetValue(prompts)!;
            var rows = new List<IReadOnlyList<RgbaImage?>>();
            foreach (var p in ps)
            {
                using var images = QualityGate.Generate(pipe, unet ?? m.Unet, p, n, o, r.GetValue(seed));   // image k from seed + k
                rows.Add(ToImages(images));
            }
            var grid = RasterGrid.Compose(rows, ps, Enumerable.Range(0, n).Select(k => $"seed {r.GetValue(seed) + (ulong)k}").ToList(),
                new RasterGridOptions(Scale: r.GetValue(scale)));
            RasterGrid.Save(grid, r.GetValue(output)!);
            Console.WriteLine($"wrote {r.GetValue(output)} ({(run is null ? "" : $"erased model of {r.GetValue(erased)}, ")}{ps.Length} prompt(s) × {n} seed(s), {o.steps} steps, guidance {o.guidance_scale})");
        }));
        return cmd;
    }

    /// <summary>(B, 3, H, W) in [−1, 1] → RGBA images.</summary>
    internal static IReadOnlyList<RgbaImage?> ToImages(Tensor images)
    {
        var size = (int)images.size(-1);
        var pixels = images.contiguous().data<float>().ToArray();
        var per = 3 * size * size;
        return Enumerable.Range(0, (int)images.size(0)).Select(i => (RgbaImage?)EmojiImageSet.ChwToRgba(pixels.AsSpan(i * per, per), size)).ToList();
    }
}
