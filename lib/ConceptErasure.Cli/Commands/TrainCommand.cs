// `workbook train vae|clip|unet|export`: the pretraining of the foundation model, step by step, each resumable
// (--resume) from its run folder's checkpoint. The order is: vae and clip (independent), then unet (needs
// both), then export (writes the shippable model folder from the UNet's EMA weights).
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ConceptErasure.Training;

namespace ConceptErasure.Cli.Commands;

internal static class TrainCommand
{
    static readonly Option<bool> Resume = new("--resume") { Description = "continue the run folder's checkpoint" };
    static readonly Option<long> Steps = new("--steps") { Description = "total optimiser steps (0 = the recipe's default)" };
    static readonly Option<int> Batch = new("--batch") { Description = "batch size (0 = the recipe's default)" };
    static readonly Option<ulong> Seed = new("--seed") { Description = "random seed", DefaultValueFactory = _ => 0 };
    static readonly Option<int> Threads = new("--threads") { Description = "libtorch threads (default: all cores)" };
    static readonly Option<bool> Overwrite = new("--overwrite") { Description = "start over in a run folder that holds a checkpoint (it is cleared)" };
    static readonly Option<int> CheckpointEvery = new("--checkpoint-every") { Description = "steps between checkpoints (0 = the recipe's default; a kill loses at most this many)" };

    static Option<string> Dir(string name, string def, string what) => new(name) { Description = what, DefaultValueFactory = _ => def };

    public static Command Create()
    {
        var train = new Command("train", "Pretrain the foundation model's parts (resumable).");

        var vaeOut = Dir("--out", "runs/vae", "run folder");
        var vaeInit = new Option<string?>("--init") { Description = "start from this autoencoder: a vae run folder (vae.json) or a foundation model folder (model.json)" };
        var decoderOnly = new Option<bool>("--decoder-only") { Description = "fine-tune only the decoder (needs --init): the latent space stays frozen, so a UNet trained on it stays valid" };
        var vaeLr = new Option<double>("--lr") { Description = "peak learning rate (0 = the recipe's default)" };
        var vae = new Command("vae", "Train the latent autoencoder on the emoji sprites.") { vaeOut, vaeInit, decoderOnly, vaeLr, Resume, Overwrite, Steps, Batch, CheckpointEvery, Seed, Threads };
        vae.SetAction(r => CommandSupport.Guard(() =>
        {
            Setup(r);
            var init = r.GetValue(vaeInit);
            if (r.GetValue(decoderOnly) && init is null) throw new ArgumentException("--decoder-only needs --init (the autoencoder whose latent space is kept)");
            var c = new AutoencoderTrainingConfig { seed = r.GetValue(Seed), init = init is null ? null : Path.GetFullPath(init), train_encoder = !r.GetValue(decoderOnly) };
            if (r.GetValue(vaeLr) is var lr and not 0) c = lr > 0 ? c with { lr = lr } : throw new ArgumentException("--lr must be positive");
            c = c with { loop = Loop(c.loop, r) };
            var modelConfig = init is null ? new AutoencoderConfig() : ReadAutoencoderConfig(init);
            Start(r, r.GetValue(vaeOut)!, c);
            using var data = EmojiTrainingSet.LoadDefault(Console.Out);
            AutoencoderTraining.Train(data, modelConfig, c, r.GetValue(vaeOut)!, r.GetValue(Resume), Console.Out, CommandSupport.Cancel());
        }));

        var clipOut = Dir("--out", "runs/clip", "run folder");
        var clip = new Command("clip", "Train the tiny CLIP (its text tower is the foundation model's text encoder).") { clipOut, Resume, Overwrite, Steps, Batch, CheckpointEvery, Seed, Threads };
        clip.SetAction(r => CommandSupport.Guard(() =>
        {
            Setup(r);
            var c = new ClipTrainingConfig { seed = r.GetValue(Seed) };
            c = c with { loop = Loop(c.loop, r) };
            Start(r, r.GetValue(clipOut)!, c);
            using var data = EmojiTrainingSet.LoadDefault(Console.Out);
            ClipTraining.Train(data, WordTokenizer.LoadDefault(), new ClipConfig(), c, r.GetValue(clipOut)!, r.GetValue(Resume), Console.Out, CommandSupport.Cancel());
        }));

        var judgeOut = Dir("--out", "runs/judge", "run folder (the trained judge is written to <out>/judge)");
        var initTower = new Option<string?>("--init-clip") { Description = "start the tower from this CLIP folder's image tower (the shipped judge does: data/models/clip); none = random init" };
        var judge = new Command("judge", "Train the concept/style classifier used as the evaluation judge.") { judgeOut, initTower, Resume, Overwrite, Steps, Batch, CheckpointEvery, Seed, Threads };
        judge.SetAction(r => CommandSupport.Guard(() =>
        {
            Setup(r);
            var c = new JudgeTrainingConfig { seed = r.GetValue(Seed) };
            if (r.GetValue(initTower) is { } clipDir)
            {
                var clipJson = Path.Combine(clipDir, "clip.json");
                if (!File.Exists(clipJson)) throw new FileNotFoundException($"--init-clip: no CLIP at {clipDir} (expected {clipJson})");
                var channels = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(clipJson))!["config"]!["vision_channels"]!.AsArray().Select(n => (int)n!).ToArray();
                c = c with { channels = channels, init_tower = Path.GetFullPath(Path.Combine(clipDir, "clip.safetensors")), lr = 1e-3 };
            }
            c = c with { loop = Loop(c.loop, r) };
            var dir = r.GetValue(judgeOut)!;
            Start(r, dir, c);
            using var data = EmojiTrainingSet.LoadDefault(Console.Out);
            var (model, report) = JudgeTraining.Train(data, c, dir, r.GetValue(Resume), Console.Out, CommandSupport.Cancel());
            model.Save(Path.Combine(dir, "judge"));
            WriteConfig(Path.Combine(dir, "judge"), "report.json", report);
            model.Dispose();
        }));

        var vaeIn = Dir("--vae", "runs/vae", "trained autoencoder run folder");
        var clipIn = Dir("--clip", "runs/clip", "trained CLIP run folder");
        var unetOut = Dir("--out", "runs/unet", "run folder");
        var unetInit = new Option<string?>("--init") { Description = "continue from this foundation model folder (e.g. data/models/foundation): its UNet, autoencoder and text encoder; the optimiser starts fresh" };
        var unetLr = new Option<double>("--lr") { Description = "peak learning rate (0 = the recipe's default)" };
        var unetWarmup = new Option<long>("--warmup") { Description = "warm-up steps (default: the recipe's)", DefaultValueFactory = _ => -1 };
        var unetStyle = new Option<double>("--style-captions") { Description = "share of kept captions that name the style, in [0, 1] (default: the recipe's 0.5)", DefaultValueFactory = _ => -1 };
        var unetBase = new Option<string?>("--base") { Description = "a fresh UNet on this foundation model folder's autoencoder and text encoder (instead of --vae/--clip)" };
        var unetSubset = new Option<int>("--subset") { Description = "train on this many concepts, drawn with --seed (0 = all)" };
        var unetInclude = new Option<string[]>("--include") { Description = "concepts --subset always keeps", AllowMultipleArgumentsPerToken = true };
        var unetExclude = new Option<string[]>("--exclude") { Description = "concepts never shown: every concept whose name contains one as whole words (its sprites and captions)", AllowMultipleArgumentsPerToken = true };
        var unet = new Command("unet", "Pretrain the UNet (latent diffusion, v-prediction, CFG dropout, EMA).") { vaeIn, clipIn, unetOut, unetInit, unetBase, unetLr, unetWarmup, unetStyle, unetSubset, unetInclude, unetExclude, Resume, Overwrite, Steps, Batch, CheckpointEvery, Seed, Threads };
        unet.SetAction(r => CommandSupport.Guard(() =>
        {
            Setup(r);
            var init = r.GetValue(unetInit) is { } i ? Path.GetFullPath(i) : null;
            var baseModel = r.GetValue(unetBase) is { } b ? Path.GetFullPath(b) : null;
            if ((init ?? baseModel) is not null && (Given(r, vaeIn) || Given(r, clipIn)))
                throw new ArgumentException("--init/--base take the autoencoder and text encoder from the model folder: drop --vae/--clip");
            if (init is not null && baseModel is not null) throw new ArgumentException("--init continues a UNet and --base starts a fresh one: give one of them");
            var c = new DiffusionTrainingConfig
            {
                seed = r.GetValue(Seed), init = init, subset = r.GetValue(unetSubset),
                include = r.GetValue(unetInclude) ?? [], exclude = r.GetValue(unetExclude) ?? [],
            };
            if (r.GetValue(unetLr) is var lr and not 0) c = lr > 0 ? c with { lr = lr } : throw new ArgumentException("--lr must be positive");
            if (r.GetValue(unetWarmup) is var w and not -1) c = w >= 0 ? c with { warmup = w } : throw new ArgumentException("--warmup must be ≥ 0");
            if (r.GetValue(unetStyle) is var sf and not -1) c = sf is >= 0 and <= 1 ? c with { style_captions = sf } : throw new ArgumentException("--style-captions must lie in [0, 1]");
            c = c with { loop = Loop(c.loop, r) };
            Start(r, r.GetValue(unetOut)!, c);
            using var all = EmojiTrainingSet.LoadDefault(Console.Out);
            var (data, excluded) = c.subset > 0 || c.exclude.Count > 0 ? all.Select(c.subset, c.include, c.exclude, c.seed) : (all, []);
            if (c.subset > 0 || c.exclude.Count > 0)
                Console.WriteLine($"training on {data.Samples.Select(s => s.Concept.Name).Distinct().Count()} concepts ({data.Count} sprites); never shown: {(excluded.Count == 0 ? "none" : string.Join(", ", excluded))}");
            using var model = init is not null ? FoundationModel.Load(init) : baseModel is not null ? FreshUnet(baseModel, c.seed) : Assemble(r.GetValue(vaeIn)!, r.GetValue(clipIn)!, new UNetConfig());
            DiffusionTraining.Train(data, model, c, r.GetValue(unetOut)!, r.GetValue(Resume), Console.Out, CommandSupport.Cancel());
            if (!ReferenceEquals(data, all)) data.Dispose();
        }));

        var unetIn = Dir("--unet", "runs/unet", "UNet run folder (its checkpoint's EMA weights are exported)");
        var exportOut = Dir("--out", FoundationModel.DefaultPath, "model folder to write");
        var exportBase = new Option<string?>("--base") { Description = "take the autoencoder and text encoder from this foundation model folder (for a UNet trained with --init) instead of --vae/--clip" };
        var export = new Command("export", "Write the foundation model folder from trained parts.") { vaeIn, clipIn, unetIn, exportBase, exportOut };
        export.SetAction(r => CommandSupport.Guard(() =>
        {
            var baseDir = r.GetValue(exportBase);
            if (baseDir is not null && (Given(r, vaeIn) || Given(r, clipIn)))
                throw new ArgumentException("--base takes the autoencoder and text encoder from the model folder: drop --vae/--clip");
            using var model = baseDir is null ? Assemble(r.GetValue(vaeIn)!, r.GetValue(clipIn)!, new UNetConfig()) : FoundationModel.Load(baseDir);
            var ckpt = Path.Combine(r.GetValue(unetIn)!, Checkpoint.FolderName, "unet_ema.safetensors");
            Serialization.LoadModule(model.Unet, ckpt);
            model.Save(r.GetValue(exportOut)!);
            Console.WriteLine($"wrote {r.GetValue(exportOut)} (UNet EMA weights from {ckpt})");
        }));

        train.Subcommands.Add(vae);
        train.Subcommands.Add(clip);
        train.Subcommands.Add(unet);
        train.Subcommands.Add(judge);
        train.Subcommands.Add(export);
        return train;
    }

    /// <summary>Whether the option was typed on the command line (not just defaulted).</summary>
    static bool Given(ParseResult r, Option o) => r.GetResult(o) is { Implicit: false };

    /// <summary>The autoencoder configuration of a vae run folder (vae.json) or a foundation model folder (model.json).</summary>
    static AutoencoderConfig ReadAutoencoderConfig(string folder)
    {
        var run = Path.Combine(folder, "vae.json");
        if (File.Exists(run)) return JsonNode.Parse(File.ReadAllText(run))!["config"].Deserialize<AutoencoderConfig>(FoundationConfig.Json)!;
        var model = Path.Combine(folder, "model.json");
        if (File.Exists(model)) return FoundationConfig.Load(model).vae;
        throw new FileNotFoundException($"--init {folder}: neither vae.json (a vae run folder) nor model.json (a foundation model folder) is there");
    }

    /// <summary>A foundation model from a trained autoencoder, a trained CLIP's text tower and a fresh UNet.</summary>
    internal static FoundationModel Assemble(string vaeDir, string clipDir, UNetConfig unetConfig)
    {
        var vaeConfig = ReadAutoencoderConfig(vaeDir);
        var clipJson = JsonNode.Parse(File.ReadAllText(Path.Combine(clipDir, "clip.json")))!;
        var clipConfig = clipJson["config"].Deserialize<ClipConfig>(FoundationConfig.Json)!;
        var vae = new AutoencoderKL(vaeConfig);
        Serialization.LoadModule(vae, Path.Combine(vaeDir, "vae.safetensors"));
        using var clip = new ClipModel(clipConfig);
        Serialization.LoadModule(clip, Path.Combine(clipDir, "clip.safetensors"));
        var text = clip.text.Clone();
        var config = new FoundationConfig { text_encoder = clipConfig.text, unet = unetConfig with { cross_attention_dim = clipConfig.text.hidden_size }, vae = vaeConfig };
        var tokenizer = WordTokenizer.Load(Path.Combine(clipDir, "vocab.txt"), clipConfig.text.max_position_embeddings);
        return new FoundationModel(config, tokenizer, text, new UNet2DConditionModel(config.unet), vae);
    }

    /// <summary>A model folder's text encoder and autoencoder with a freshly initialised UNet of its architecture.</summary>
    static FoundationModel FreshUnet(string folder, ulong seed)
    {
        var m = FoundationModel.Load(folder);
        torch.manual_seed((long)seed);
        var fresh = new FoundationModel(m.Config, m.Tokenizer, m.TextEncoder, new UNet2DConditionModel(m.Config.unet), m.Vae);
        m.Unet.Dispose();
        return fresh;
    }

    static void Setup(ParseResult r) => CommandSupport.SetThreads(r.GetValue(Threads), fallback: Environment.ProcessorCount);

    static LoopOptions Loop(LoopOptions o, ParseResult r)
    {
        var steps = r.GetValue(Steps);
        var batch = r.GetValue(Batch);
        var every = r.GetValue(CheckpointEvery);
        if (steps < 0 || batch < 0 || every < 0) throw new ArgumentException("--steps, --batch and --checkpoint-every must be ≥ 0");
        return o with { steps = steps > 0 ? steps : o.steps, batch_size = batch > 0 ? batch : o.batch_size, checkpoint_every = every > 0 ? every : o.checkpoint_every };
    }

    /// <summary>Checks the run folder against --resume/--overwrite and writes the recipe, before any setup.</summary>
    static void Start<T>(ParseResult r, string dir, T recipe) =>
        TrainingRun.Start(dir, JsonSerializer.Serialize(recipe, FoundationConfig.Json) + "\n", r.GetValue(Resume), r.GetValue(Overwrite));

    static void WriteConfig<T>(string dir, string name, T config)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, name), JsonSerializer.Serialize(config, FoundationConfig.Json) + "\n");
    }
}
