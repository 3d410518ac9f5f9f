// AutoencoderTraining.cs — trains the latent autoencoder on emoji sprites:
//   L = ‖D(z) − x‖₁ + ‖D(z) − x‖² + β·KL(q(z|x) ‖ N(0, I)),   z ~ q(z|x)
// (SD's autoencoder adds perceptual and adversarial terms; at 32×32 L1+L2 suffice.) Afterwards the latent scale
// 1/std(z) is measured on the training set, as SD's 0.18215 was, and PSNR is reported on held-out concepts.
// Decoder-only fine-tuning (`init` + `train_encoder = false`): the encoder, and so the latent space and its scale,
// stay frozen, so a UNet already trained on those latents stays valid while the decoder gets better at drawing
// them (L = ‖D(z) − x‖₁ + ‖D(z) − x‖², the KL term being constant).
using ConceptErasure.Data;
using System.Text.Json.Nodes;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed record AutoencoderTrainingConfig
{
    public LoopOptions loop { get; init; } = new() { steps = 3000, batch_size = 64 };
    public double lr { get; init; } = 1e-3;          // AdamW peak
    public long warmup { get; init; } = 100;
    public double weight_decay { get; init; } = 0.0;
    public double kl_weight { get; init; } = 1e-6;   // β: a light pull towards N(0, I), as in SD's KL autoencoder
    public ulong seed { get; init; } = 0;
    public string? init { get; init; } = null;       // start from this autoencoder (a folder with vae.json + vae.safetensors)
    public bool train_encoder { get; init; } = true; // false: decoder-only fine-tuning (needs init; latent space frozen)
}

public sealed record AutoencoderReport(double HeldOutPsnr, double TrainPsnr, double ScalingFactor, int TrainImages, int HeldOutImages, long Steps, double Seconds);

public static class AutoencoderTraining
{
    public static AutoencoderReport Train(EmojiTrainingSet data, AutoencoderConfig modelConfig, AutoencoderTrainingConfig c, string runDir,
        bool resume, TextWriter log, CancellationToken cancel = default)
    {
        var (train, held) = data.SplitByConcept();
        torch.manual_seed((long)c.seed);
        if (!c.train_encoder && c.init is null) throw new ArgumentException("decoder-only fine-tuning needs an autoencoder to start from (init)");
        using var vae = new AutoencoderKL(modelConfig);
        if (c.init is not null)
        {
            Serialization.LoadModule(vae, Path.Combine(c.init, "vae.safetensors"));
            vae.SetScalingFactor(modelConfig.scaling_factor);
        }
        if (!c.train_encoder)
        {
            vae.encoder.Freeze();
            vae.quant_conv.Freeze();
        }
        var trained = vae.parameters().Where(p => p.requires_grad).ToList();
        using var opt = optim.AdamW(trained, c.lr, weight_decay: c.weight_decay);
        using var g = Rng.Create(c.seed + 1);
        var parts = new Checkpoint.Parts();
        parts.Modules["vae"] = vae;
        parts.Optimizers["vae"] = opt;
        parts.Generators["batches"] = g;
        log.WriteLine($"autoencoder: {vae.ParameterCount():N0} parameters ({trained.Sum(p => p.numel()):N0} trained{(c.train_encoder ? "" : ": decoder only")}); {train.Count} training / {held.Count} held-out sprites");
        if (c.init is not null) log.WriteLine($"  started from {c.init}: held-out PSNR {Psnr(vae, held):F2} dB, train PSNR {Psnr(vae, train):F2} dB");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var steps = TrainingLoop.Run(runDir, c.loop, parts, opt, new LrSchedule.WarmupCosine(c.lr, c.warmup, c.loop.steps, c.lr * 0.05),
            s =>
            {
                var x = train.Batch(train.SampleIndices(c.loop.batch_size, g));
                opt.zero_grad();
                using var q = EncodeForStep(vae, x, c.train_encoder);
                var recon = vae.decode(q.sample(g));
                var l1 = nn.functional.l1_loss(recon, x);
                var l2 = nn.functional.mse_loss(recon, x);
                var kl = q.kl().mean();
                var loss = l1 + l2 + kl * c.kl_weight;
                loss.backward();
                nn.utils.clip_grad_norm_(trained, 1.0);
                opt.step();
                return new Dictionary<string, double> { ["loss"] = loss.ToDouble(), ["l1"] = l1.ToDouble(), ["kl"] = kl.ToDouble() };
            }, resume, log, cancel);

        // the latent scale belongs to the encoder: re-measured only when the encoder was trained
        var scaling = c.train_encoder ? 1.0 / LatentStd(vae, train) : modelConfig.scaling_factor;
        vae.SetScalingFactor(scaling);
        var report = new AutoencoderReport(Psnr(vae, held), Psnr(vae, train), scaling, train.Count, held.Count, steps, clock.Elapsed.TotalSeconds);
        Serialization.SaveModule(vae, Path.Combine(runDir, "vae.safetensors"));
        Data.AtomicFile.WriteAllText(Path.Combine(runDir, "vae.json"), new JsonObject
        {
            ["config"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(vae.config, FoundationConfig.Json)),
            ["report"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(report)),
        }.ToJsonString(FoundationConfig.Json) + "\n");
        log.WriteLine($"autoencoder: held-out PSNR {report.HeldOutPsnr:F2} dB, train PSNR {report.TrainPsnr:F2} dB, latent scale {scaling:F4}");
        train.Dispose(); held.Dispose();
        return report;
    }

    static LatentDistribution EncodeForStep(AutoencoderKL vae, Tensor x, bool withGrad)
    {
        if (withGrad) return vae.encode(x);
        using var _ = no_grad();
        return vae.encode(x);
    }

    /// <summary>Standard deviation of posterior samples over a data set (all elements).</summary>
    public static double LatentStd(AutoencoderKL vae, EmojiTrainingSet set)
    {
        using var _ = no_grad();
        using var g = Rng.Create(12345);
        double sum = 0, sumSq = 0; long n = 0;
        for (var i = 0; i < set.Count; i += 256)
        {
            using var scope = NewDisposeScope();
            var x = set.Images.narrow(0, i, Math.Min(256, set.Count - i));
            using var q = vae.encode(x);
            var z = q.sample(g).@double();
            sum += z.sum().ToDouble(); sumSq += z.square().sum().ToDouble(); n += z.numel();
        }
        var mean = sum / n;
        return Math.Sqrt(sumSq / n - mean * mean);
    }

    /// <summary>PSNR (dB) of posterior-mean reconstructions, pixels mapped to [0, 1].</summary>
    public static double Psnr(AutoencoderKL vae, EmojiTrainingSet set)
    {
        using var _ = no_grad();
        double se = 0; long n = 0;
        for (var i = 0; i < set.Count; i += 256)
        {
            using var scope = NewDisposeScope();
            var x = set.Images.narrow(0, i, Math.Min(256, set.Count - i));
            using var q = vae.encode(x);
            var r = vae.decode(q.mean).clamp(-1, 1);
            se += ((r - x) * 0.5).square().@double().sum().ToDouble();
            n += x.numel();
        }
        return 10 * Math.Log10(1.0 / (se / n));
    }
}
