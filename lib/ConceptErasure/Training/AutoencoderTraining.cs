// AutoencoderTraining.cs — trains the latent autoencoder on emoji sprites:
//   L = ‖D(z) − x‖₁ + ‖D(z) − x‖² + β·KL(q(z|x) ‖ N(0, I)),   z ~ q(z|x)
// (SD's autoencoder adds perceptual and adversarial terms; at 32×32 L1+L2 suffice.) Afterwards the latent scale
// 1/std(z) is measured on the training set, as SD's 0.18215 was, and PSNR is reported on held-out concepts.
using System.Text.Json.Nodes;
using ConceptErasure.Models;
using ConceptErasure.Torch;
using ConceptErasure.Torch.optim;

namespace ConceptErasure.Training;

public sealed record AutoencoderTrainingConfig
{
    public LoopOptions loop { get; init; } = new() { steps = 3000, batch_size = 64 };
    public double lr { get; init; } = 1e-3;          // AdamW peak
    public long warmup { get; init; } = 100;
    public double weight_decay { get; init; } = 0.0;
    public double kl_weight { get; init; } = 1e-6;   // β: a light pull towards N(0, I), as in SD's KL autoencoder
    public ulong seed { get; init; } = 0;
}

public sealed record AutoencoderReport(double HeldOutPsnr, double TrainPsnr, double ScalingFactor, int TrainImages, int HeldOutImages, long Steps, double Seconds);

public static class AutoencoderTraining
{
    public static AutoencoderReport Train(EmojiTrainingSet data, AutoencoderConfig modelConfig, AutoencoderTrainingConfig c, string runDir,
        bool resume, TextWriter log, CancellationToken cancel = default)
    {
        var (train, held) = data.SplitByConcept();
        torch.manual_seed(c.seed);
        using var vae = new AutoencoderKL(modelConfig);
        using var opt = new AdamW(vae.parameters_(), c.lr, weight_decay: c.weight_decay);
        using var g = new Generator(c.seed + 1);
        var parts = new Checkpoint.Parts();
        parts.Modules["vae"] = vae;
        parts.Optimizers["vae"] = opt;
        parts.Generators["batches"] = g;
        log.WriteLine($"autoencoder: {vae.parameter_count():N0} parameters; {train.Count} training / {held.Count} held-out sprites");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var steps = TrainingLoop.Run(runDir, c.loop, parts, opt, new LrSchedule.WarmupCosine(c.lr, c.warmup, c.loop.steps, c.lr * 0.05),
            s =>
            {
                var x = train.Batch(train.SampleIndices(c.loop.batch_size, g));
                opt.zero_grad();
                using var q = vae.encode(x);
                var recon = vae.decode(q.sample(g));
                var l1 = F.l1_loss(recon, x);
                var l2 = F.mse_loss(recon, x);
                var kl = q.kl().mean();
                var loss = l1 + l2 + kl * c.kl_weight;
                loss.backward();
                utils.clip_grad_norm_(vae.parameters_(), 1.0);
                opt.step();
                return new Dictionary<string, double> { ["loss"] = loss.item(), ["l1"] = l1.item(), ["kl"] = kl.item() };
            }, resume, log, cancel);

        var scaling = 1.0 / LatentStd(vae, train);
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

    /// <summary>Standard deviation of posterior samples over a data set (all elements).</summary>
    public static double LatentStd(AutoencoderKL vae, EmojiTrainingSet set)
    {
        using var _ = torch.no_grad();
        using var g = new Generator(12345);
        double sum = 0, sumSq = 0; long n = 0;
        for (var i = 0; i < set.Count; i += 256)
        {
            using var scope = torch.NewDisposeScope();
            var x = set.Images.narrow(0, i, Math.Min(256, set.Count - i));
            using var q = vae.encode(x);
            var z = q.sample(g).@double();
            sum += z.sum().item(); sumSq += z.square().sum().item(); n += z.numel();
        }
        var mean = sum / n;
        return Math.Sqrt(sumSq / n - mean * mean);
    }

    /// <summary>PSNR (dB) of posterior-mean reconstructions, pixels mapped to [0, 1].</summary>
    public static double Psnr(AutoencoderKL vae, EmojiTrainingSet set)
    {
        using var _ = torch.no_grad();
        double se = 0; long n = 0;
        for (var i = 0; i < set.Count; i += 256)
        {
            using var scope = torch.NewDisposeScope();
            var x = set.Images.narrow(0, i, Math.Min(256, set.Count - i));
            using var q = vae.encode(x);
            var r = vae.decode(q.mean).clamp(-1, 1);
            se += ((r - x) * 0.5).square().@double().sum().item();
            n += x.numel();
        }
        return 10 * Math.Log10(1.0 / (se / n));
    }
}
