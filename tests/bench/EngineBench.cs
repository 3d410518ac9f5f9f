// EngineBench.cs — one workload of the engine comparison, timed in this process and printed as one JSON line.
// The same source is compiled twice by tests/bench/engine.sh: against the current library (TorchSharp) and, with
// BRIDGE defined, against the library of the last commit that used the home-made libtorch bridge; the few API
// differences between the two engines are the #if blocks below.
//
//   EngineBench <workload> <threads> <reps> <model folder>
//   workloads: dispatch (1-element add, µs/op: plain `using` and inside a DisposeScope)
//              erasure-step (batch-1 UNet forward + backward w.r.t. the attn2 parameters, ms)
//              forward-32 (batch-32 UNet forward without gradient, ms)
//              train-64 (batch-64 training step: forward, MSE, backward, AdamW, ms)
//              sampling (16 images × 50 DDIM steps with CFG through the pipeline, s)
//              erase-esd, erase-ap (100 updates of ESD-x / AP-Gumbel through Eraser.Run, s)
using System.Diagnostics;
using System.Globalization;
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
#if BRIDGE
using ConceptErasure.Torch;
using static ConceptErasure.Torch.torch;
#else
using ConceptErasure.Engine;
using TorchSharp;
using static TorchSharp.torch;
#endif

var (workload, threads, reps, folder) = (args[0], int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args[3]);
set_num_threads(threads);
var wall = new List<double>();
var cpu = new List<double>();
var process = Process.GetCurrentProcess();

void Time(Action step, int warmup, double scale)
{
    for (var i = 0; i < warmup; i++) step();
    for (var i = 0; i < reps; i++)
    {
        process.Refresh();
        var c0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        step();
        var w = sw.Elapsed.TotalMilliseconds;
        process.Refresh();
        wall.Add(w * scale);
        cpu.Add((process.TotalProcessorTime - c0).TotalMilliseconds * scale);
    }
}

static long[] S(params long[] s) => s;
#if BRIDGE
static IEnumerable<Parameter> Params(UNet2DConditionModel u) => u.parameters_();
static Generator Gen(ulong seed) => new(seed);
static void ClearGrads(UNet2DConditionModel u) { foreach (var p in u.parameters_()) p.zero_grad(); }
#else
static IEnumerable<TorchSharp.Modules.Parameter> Params(UNet2DConditionModel u) => u.parameters();
static Generator Gen(ulong seed) => Rng.Create(seed);
static void ClearGrads(UNet2DConditionModel u) => u.zero_grad();
#endif

string unit = "ms";
switch (workload)
{
    case "dispatch":
    {
        unit = "us";
        using var a = ones(S(1));
        using var b = ones(S(1));
        const int n = 20000;
        Time(() => { for (var i = 0; i < n; i++) (a + b).Dispose(); }, 2, 1000.0 / n);
        var plain = (wall.ToList(), cpu.ToList());
        wall.Clear(); cpu.Clear();
        Time(() => { using (NewDisposeScope()) for (var i = 0; i < n; i++) _ = a + b; }, 2, 1000.0 / n);
        Emit("dispatch", unit, plain.Item1, plain.Item2);
        Emit("dispatch-scope", unit, wall, cpu);
        return 0;
    }
    case "erasure-step" or "forward-32" or "train-64":
    {
        using var model = FoundationModel.Load(folder);
        var unet = model.Unet;
        var u = model.Config.unet;
        long S0 = model.Config.text_encoder.max_position_embeddings, hw = u.sample_size;
        manual_seed(0);
        if (workload == "erasure-step")
        {
            foreach (var p in Params(unet)) p.requires_grad = false;
            foreach (var (name, p) in unet.named_parameters()) if (name.Contains(".attn2.")) p.requires_grad = true;
            using var z = randn(S(1, u.in_channels, hw, hw));
            using var t = full(S(1), 500, ScalarType.Int64);
            using var c = randn(S(1, S0, u.cross_attention_dim));
            Time(() => { using var s = NewDisposeScope(); ClearGrads(unet); unet.forward(z, t, c).square().mean().backward(); }, 5, 1);
        }
        else if (workload == "forward-32")
        {
            using var z = randn(S(32, u.in_channels, hw, hw));
            using var t = full(S(32), 500, ScalarType.Int64);
            using var c = randn(S(32, S0, u.cross_attention_dim));
            Time(() => { using var s = NewDisposeScope(); using var _ = no_grad(); unet.forward(z, t, c); }, 3, 1);
        }
        else
        {
            unet.train();
#if BRIDGE
            using var opt = new ConceptErasure.Torch.optim.AdamW(unet.parameters_(), 5e-4, weight_decay: 0.01);
#else
            using var opt = optim.AdamW(unet.parameters(), 5e-4, weight_decay: 0.01);
#endif
            using var z = randn(S(64, u.in_channels, hw, hw));
            using var t = full(S(64), 500, ScalarType.Int64);
            using var c = randn(S(64, S0, u.cross_attention_dim));
            using var target = randn(S(64, u.out_channels, hw, hw));
            Time(() =>
            {
                using var s = NewDisposeScope();
                opt.zero_grad();
#if BRIDGE
                F.mse_loss(unet.forward(z, t, c), target).backward();
#else
                nn.functional.mse_loss(unet.forward(z, t, c), target).backward();
#endif
                opt.step();
            }, 3, 1);
        }
        break;
    }
    case "sampling":
    {
        unit = "s";
        using var model = FoundationModel.Load(folder);
        var pipe = new StableDiffusionPipeline(model);
        var o = new SamplingOptions { steps = 50 };
        var prompts = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? "an emoji of a delivery truck" : "dog, twitter style").ToList();
        Time(() => { using var g = Gen(0); using var s = NewDisposeScope(); pipe.Generate(prompts, o, g); }, 1, 1e-3);
        break;
    }
    case "erase-esd" or "erase-ap":
    {
        unit = "s";
        using var model = FoundationModel.Load(folder);
        var config = new ErasureConfig
        {
            method = workload == "erase-esd" ? "esd" : "adversarial_preservation", erase = ["delivery truck"], iterations = 100,
            vocabulary = CandidateSearch.SearchWords(ConceptErasure.Data.EmojiData.Load().Index, model.Tokenizer),
        };
        Time(() => { using var r = Eraser.Run(model, config); }, 0, 1e-3);
        break;
    }
    default:
        Console.Error.WriteLine($"unknown workload {workload}");
        return 2;
}
Emit(workload, unit, wall, cpu);
return 0;

void Emit(string name, string u, List<double> w, List<double> c) =>
    Console.WriteLine("{\"workload\":\"" + name + "\",\"threads\":" + threads + ",\"unit\":\"" + u + "\",\"wall\":[" +
        string.Join(",", w.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "],\"cpu\":[" +
        string.Join(",", c.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]}");
