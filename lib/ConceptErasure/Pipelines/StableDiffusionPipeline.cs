// StableDiffusionPipeline.cs — text-to-image sampling as Stable Diffusion does it: z_T ~ N(0, I), then DDIM
// steps with classifier-free guidance (Ho & Salimans 2022)
//     ε̃ = ε(z_t, t, ∅) + s·(ε(z_t, t, c) − ε(z_t, t, ∅))
// and finally x = Decoder(z_0 / scaling_factor). The loop is written out here, with two entry points the
// erasure methods and the concealment audit need: stop at an intermediate step (returning z_t), and continue
// from a given z_t — possibly with another UNet (the partial-diffusion hand-over).
using ConceptErasure.Models;
using ConceptErasure.Schedulers;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Pipelines;

public sealed record SamplingOptions
{
    public int steps { get; init; } = 50;             // DDIM steps
    public double guidance_scale { get; init; } = 2.0; // CFG scale s (1 = no guidance); 2 chosen for the shipped model on the
                                                       // gate-disjoint validation split (model card: 2 beat 1.5, 3 and 5)
    public double eta { get; init; } = 0.0;            // DDIM stochasticity (0 = deterministic)
    public void Validate()
    {
        if (steps < 1 || steps > 1000) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be in [1, 1000], got {steps}");
        if (!(guidance_scale >= 0) || double.IsInfinity(guidance_scale)) throw new ArgumentOutOfRangeException(nameof(guidance_scale), $"guidance scale must be ≥ 0, got {guidance_scale}");
        if (eta is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(eta), $"eta must be in [0, 1], got {eta}");
    }
}

public sealed class StableDiffusionPipeline(FoundationModel model)
{
    public FoundationModel Model { get; } = model;
    NoiseSchedule Schedule => Model.Schedule;
    public DdimScheduler Ddim { get; } = new(model.Schedule);

    /// <summary>ε̂(z_t, t, c) of a UNet (whatever it predicts internally).</summary>
    public Tensor Epsilon(UNet2DConditionModel unet, Tensor zt, Tensor t, Tensor context)
    {
        using var output = unet.forward(zt, t, context);
        return Schedule.Epsilon(Model.Prediction, output, zt, t);
    }

    /// <summary>Guided ε̃ for a batch: one UNet call on [uncond; cond].</summary>
    public Tensor GuidedEpsilon(UNet2DConditionModel unet, Tensor zt, int t, Tensor cond, Tensor uncond, double scale)
    {
        using var scope = NewDisposeScope();
        var B = zt.size(0);
        var ts = torch.full([B], t, ScalarType.Int64, zt.device);
        if (scale == 1.0) return Epsilon(unet, zt, ts, cond).MoveToOuterDisposeScope();
        var eps = Epsilon(unet, torch.cat([zt, zt]), torch.cat([ts, ts]), torch.cat([uncond, cond])).chunk(2);
        return (eps[0] + (eps[1] - eps[0]) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>Initial latents z_T ~ N(0, I) from a seeded generator, (B, C, h, w).</summary>
    public Tensor InitialNoise(int batch, Generator generator) =>
        Rng.randn([batch, Model.Unet.config.in_channels, Model.Unet.config.sample_size, Model.Unet.config.sample_size], generator, Model.Device);

    /// <summary>n initial latents where image k starts from the noise of seed + k, so any two models (or an attack
    /// that switches between them) compare images drawn from the same noise, whatever the batch size.</summary>
    public Tensor SeededNoise(int n, ulong seed)
    {
        using var scope = NewDisposeScope();
        return torch.cat(Enumerable.Range(0, n).Select(k =>
        {
            using var g = Rng.Create(seed + (ulong)k);
            return InitialNoise(1, g);
        }).ToList(), 0).MoveToOuterDisposeScope();
    }

    /// <summary>Runs DDIM from grid index <paramref name="from"/> (0 = pure noise) up to, not including, index
    /// <paramref name="to"/> (steps = the end), and returns the latents reached: z at timestep grid[to−1]'s
    /// successor. With two calls, (0 → k) then (k → steps), the result equals one full run.</summary>
    public Tensor Denoise(UNet2DConditionModel unet, Tensor z, Tensor cond, Tensor uncond, SamplingOptions o, int from, int to,
        Generator? noise = null, Action<int>? onStep = null)
    {
        o.Validate();
        var grid = Ddim.Timesteps(o.steps);
        if (from < 0 || to > grid.Length || from > to) throw new ArgumentOutOfRangeException(nameof(from), $"denoise range [{from}, {to}) outside [0, {grid.Length}]");
        using var _ = no_grad();
        var current = z.alias();
        for (var i = from; i < to; i++)
        {
            using var scope = NewDisposeScope();
            var t = grid[i];
            var eps = GuidedEpsilon(unet, current, t, cond, uncond, o.guidance_scale);     // 1. guided ε̃
            var next = Ddim.Step(eps, t, Ddim.Previous(t, o.steps), current, o.eta, noise);  // 2. z_t → z_prev
            current.Dispose();
            current = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i);
        }
        return current;
    }

    /// <summary>The DDPM timestep that latents reached after <paramref name="index"/> DDIM steps sit at.</summary>
    public int TimestepAfter(int index, int steps) => index < steps ? Ddim.Timesteps(steps)[index] : 0;

    /// <summary>Generates images (B, 3, 32, 32) in [−1, 1] for prompts, one seeded noise per prompt.</summary>
    public Tensor Generate(IReadOnlyList<string> prompts, SamplingOptions o, Generator generator, UNet2DConditionModel? unet = null)
    {
        using var scope = NewDisposeScope();
        var cond = Model.Prompts.Encode(prompts);
        var uncond = Model.Prompts.Encode(Enumerable.Repeat("", prompts.Count).ToList());
        var z = InitialNoise(prompts.Count, generator);
        var z0 = Denoise(unet ?? Model.Unet, z, cond, uncond, o, 0, o.steps, generator);
        return Model.DecodeLatents(z0).MoveToOuterDisposeScope();
    }

    /// <summary>n images (n, 3, 32, 32) in [−1, 1] of one text-encoder output <paramref name="context"/> (1, S, D) — a
    /// prompt's or any embedding, such as PGD's continuous c_a — against the empty prompt's; image k from seed + k.</summary>
    public Tensor Generate(UNet2DConditionModel unet, Tensor context, int n, SamplingOptions o, ulong seed)
    {
        using var scope = NewDisposeScope();
        var cond = context.expand(n, -1, -1).contiguous();                                     // (n, S, D)
        var uncond = Model.Prompts.Encode("").expand(n, -1, -1).contiguous();
        var z0 = Denoise(unet, SeededNoise(n, seed), cond, uncond, o, 0, o.steps);
        return Model.DecodeLatents(z0).MoveToOuterDisposeScope();
    }
}
