// PartialDiffusion.cs — the partial-diffusion attack of "Unlearning or Concealment?" (Sharma et al., 2024, §4):
// the ORIGINAL model denoises z_T with prompt P for the first fraction ψ of the sampling steps, then the ERASED
// model finishes from the latent it reached, with the same prompt and no re-noising:
//     z_k = DDIM_{original}(z_T; steps 0 … k−1),  x(ψ) = D(DDIM_{erased}(z_k; steps k … S−1)),  k = round(ψ·S).
// If the erased weights still hold the concept and only the prompt was decoupled from it, a small head start in
// the original model's trajectory is enough for the erased model to finish drawing the concept. DDIM is
// stateless, so nothing resets at the hand-over (the paper's PNDM restarts its multistep history there).
// ψ = 0 is the erased model on its own and ψ = 1 the original on its own, from the same noise.
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Audit;

public sealed record PartialDiffusionOptions
{
    public double[] psi { get; init; } = [0, 0.001, 0.01, 0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 1]; // the paper's grid plus both ends
    public SamplingOptions sampling { get; init; } = new();  // both models sample with the same DDIM grid and CFG scale
    public ulong seed { get; init; } = 7000;                  // image k starts from the noise of seed + k (at every ψ)

    public void Validate()
    {
        sampling.Validate();
        if (psi.Length == 0) throw new ArgumentException("the ψ grid is empty");
        foreach (var p in psi)
            if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(psi), $"ψ must lie in [0, 1], got {p}");
        if (psi.Distinct().Count() != psi.Length) throw new ArgumentException("the ψ grid repeats a value");
    }
}

public static class PartialDiffusion
{
    /// <summary>The number of DDIM steps the original model takes: k = round(ψ·S), halves rounded up. With few
    /// steps, small ψ round to 0 (at S = 25, ψ ≤ 0.01 is the erased model alone); <see cref="EffectivePsi"/> says
    /// what a grid point really was.</summary>
    public static int HandOverStep(double psi, int steps) => (int)Math.Round(psi * steps, MidpointRounding.AwayFromZero);

    public static double EffectivePsi(double psi, int steps) => HandOverStep(psi, steps) / (double)steps;

    /// <summary>n images (n, 3, H, W) in [−1, 1] of <paramref name="prompt"/> at one ψ; image k starts from the
    /// noise of seed + k, as <see cref="Evaluation.QualityGate.Generate"/> draws it, so ψ = 0 reproduces the erased
    /// model's evaluation images and ψ = 1 the original's.</summary>
    public static Tensor Attack(StableDiffusionPipeline pipe, UNet2DConditionModel original, UNet2DConditionModel erased,
        string prompt, int n, double psi, SamplingOptions sampling, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"need at least one image, got {n}");
        if (!(psi >= 0 && psi <= 1)) throw new ArgumentOutOfRangeException(nameof(psi), $"ψ must lie in [0, 1], got {psi}");
        sampling.Validate();
        using var scope = NewDisposeScope();
        var model = pipe.Model;
        // 1. z_T, one seeded draw per image                                                   // (n, C, h, w)
        var zT = pipe.SeededNoise(n, seed);
        var cond = model.Prompts.Encode(Enumerable.Repeat(prompt, n).ToList());          // (n, T, d)
        var uncond = model.Prompts.Encode(Enumerable.Repeat("", n).ToList());
        // 2. the original model's head start: steps 0 … k−1
        var k = HandOverStep(psi, sampling.steps);
        var zk = pipe.Denoise(original, zT, cond, uncond, sampling, 0, k);
        // 3. the erased model finishes: steps k … S−1, from z_k as it is (no re-noising)
        var z0 = pipe.Denoise(erased, zk, cond, uncond, sampling, k, sampling.steps);
        // 4. decode                                                                           // (n, 3, H, W)
        return model.DecodeLatents(z0).MoveToOuterDisposeScope();
    }

    /// <summary>The whole sweep: one image set per ψ of the grid, in the grid's order.</summary>
    public static IReadOnlyList<Tensor> Sweep(StableDiffusionPipeline pipe, UNet2DConditionModel original, UNet2DConditionModel erased,
        string prompt, int n, PartialDiffusionOptions o, Action<int, double>? progress = null)
    {
        o.Validate();
        var sets = new List<Tensor>();
        for (var i = 0; i < o.psi.Length; i++)
        {
            sets.Add(Attack(pipe, original, erased, prompt, n, o.psi[i], o.sampling, o.seed));
            progress?.Invoke(i, o.psi[i]);
        }
        return sets;
    }
}
