// DiffusionTraining.cs — pretraining of the UNet as latent diffusion (Rombach et al. 2022) with the DDPM
// objective in v-parameterisation (Salimans & Ho 2022):
//   z₀ ~ q(z|x)·scale,  t ~ U{0..T−1},  ε ~ N(0, I),  z_t = √ᾱ z₀ + √(1−ᾱ) ε,
//   L = ‖v_θ(z_t, t, τ(caption)) − (√ᾱ ε − √(1−ᾱ) z₀)‖²
// Captions are dropped to "" with probability p_uncond so one network learns both the conditional and the
// unconditional model that classifier-free guidance combines. EMA weights are what gets shipped.
// A run may continue an earlier model (`init`: a foundation model folder): its UNet weights — the EMA weights that
// were shipped — are the starting point of both the trained and the EMA copy; the optimiser starts fresh (its
// moments are not shipped), so a continuation warms the learning rate up again.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Schedulers;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed record DiffusionTrainingConfig
{
    public LoopOptions loop { get; init; } = new() { steps = 20000, batch_size = 64, checkpoint_every = 250 };
    public double lr { get; init; } = 5e-4;            // AdamW peak
    public long warmup { get; init; } = 500;
    public double min_lr_fraction { get; init; } = 0.1;
    public double weight_decay { get; init; } = 0.01;
    public double ema_decay { get; init; } = 0.999;
    public double caption_dropout { get; init; } = 0.1;  // p_uncond
    public double style_captions { get; init; } = 0.5;   // share of kept captions that name the style (0.5 = all four templates alike)
    public ulong seed { get; init; } = 0;
    public string? init { get; init; } = null;          // continue from this foundation model folder's unet.safetensors (none: fresh init)
    // which concepts the UNet sees (defaults: all of them). The concealment audit's never-saw-it model and its twin:
    public int subset { get; init; } = 0;               // keep this many concepts, drawn by a shuffle seeded with `seed` (0 = all)
    public IReadOnlyList<string> include { get; init; } = [];  // always kept by the subset
    public IReadOnlyList<string> exclude { get; init; } = [];  // never shown: every concept whose name contains one as whole words
}

public static class DiffusionTraining
{
    /// <summary>Posterior moments of every sprite under the (frozen) autoencoder, scaled: (N, 2L, h, w) = [μ·s, log σ²].</summary>
    public static Tensor EncodeDataset(AutoencoderKL vae, EmojiTrainingSet data)
    {
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var i = 0; i < data.Count; i += 256)
        {
            using var scope = NewDisposeScope();
            using var q = vae.encode(data.Images.narrow(0, i, Math.Min(256, data.Count - i)));
            parts.Add(torch.cat([q.mean * vae.config.scaling_factor, q.logvar], 1).MoveToOuterDisposeScope());
        }
        var all = torch.cat(parts, 0).DetachFromDisposeScope();
        foreach (var p in parts) p.Dispose();
        return all;
    }

    public static long Train(EmojiTrainingSet data, FoundationModel model, DiffusionTrainingConfig c, string runDir, bool resume, TextWriter log,
        CancellationToken cancel = default)
    {
        torch.manual_seed((long)c.seed);
        var unet = model.Unet;
        if (c.init is not null)
        {
            var file = Path.Combine(c.init, "unet.safetensors");
            if (!File.Exists(file)) throw new FileNotFoundException($"init: no UNet weights at {file}");
            Serialization.LoadModule(unet, file);
            log.WriteLine($"unet: starting from {file}");
        }
        unet.train();
        using var ema = new Ema(unet, new UNet2DConditionModel(unet.config), c.ema_decay);
        using var opt = optim.AdamW(unet.parameters(), c.lr, weight_decay: c.weight_decay);
        using var g = Rng.Create(c.seed + 1);
        var parts = new Checkpoint.Parts();
        parts.Modules["unet"] = unet;
        parts.Modules["unet_ema"] = ema.Model;
        parts.Optimizers["unet"] = opt;
        parts.Generators["batches"] = g;
        using var moments = EncodeDataset(model.Vae, data);
        var L = model.Config.vae.latent_channels;
        var schedule = model.Schedule;
        var prediction = model.Prediction;
        log.WriteLine($"unet: {unet.ParameterCount():N0} parameters, {prediction} prediction; {data.Count} sprites; latents {L}×{moments.size(2)}×{moments.size(3)}");

        return TrainingLoop.Run(runDir, c.loop, parts, opt,
            new LrSchedule.WarmupCosine(c.lr, c.warmup, c.loop.steps, c.lr * c.min_lr_fraction),
            s =>
            {
                var B = c.loop.batch_size;
                var idx = data.SampleIndices(B, g);
                using var u = Rng.rand([B, 2], g);
                var uv = u.ToDoubles();
                var captions = idx.Select((i, k) => uv[2 * k] < c.caption_dropout ? Captions.Unconditional
                    : Captions.ForSample(data.Samples[(int)i], Captions.TemplateIndex(uv[2 * k + 1], c.style_captions))).ToList();

                // 1. z₀ ~ q(z|x), scaled: μ·s + σ·s·ξ
                using var idxT = torch.tensor(idx);
                var m = moments.index_select(0, idxT);
                var mu = m.narrow(1, 0, L);
                var std = (m.narrow(1, L, L) * 0.5).exp() * model.Config.vae.scaling_factor;
                var z0 = mu + std * Rng.randn(mu.shape, g);
                // 2. forward process at random t
                var t = Rng.randint(0, schedule.TrainSteps, [B], g);
                var noise = Rng.randn(z0.shape, g);
                var zt = schedule.AddNoise(z0, noise, t);
                var target = schedule.Target(prediction, z0, noise, t);
                // 3. conditioning (frozen text encoder, not cached: many distinct captions)
                Tensor context;
                using (no_grad())
                {
                    var (ids, eos) = model.Prompts.Tokenize(captions);
                    using var enc = model.TextEncoder.forward(ids, eos);
                    context = enc.last_hidden_state.alias();
                }
                // 4. loss and update
                opt.zero_grad();
                var loss = nn.functional.mse_loss(unet.forward(zt, t, context), target);
                loss.backward();
                var gradNorm = nn.utils.clip_grad_norm_(unet.parameters(), 1.0);
                opt.step();
                ema.Update();
                return new Dictionary<string, double> { ["loss"] = loss.ToDouble(), ["grad"] = gradNorm };
            }, resume, log, cancel);
    }
}
