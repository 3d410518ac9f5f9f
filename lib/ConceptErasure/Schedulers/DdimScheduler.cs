// DdimScheduler.cs — DDIM sampling (Song, Meng & Ermon 2021) on a NoiseSchedule, stateless: the step from
// z_t to z_{t_prev} depends only on (z_t, ε̂, t, t_prev), so any two models can hand over at any step (the
// partial-diffusion attack of "Unlearning or Concealment?" and ESD's sampling of z_t rely on this).
//
//   ẑ₀ = (z_t − √(1−ᾱ_t) ε̂)/√ᾱ_t
//   σ_t = η √((1−ᾱ_prev)/(1−ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev)
//   z_prev = √ᾱ_prev ẑ₀ + √(1 − ᾱ_prev − σ_t²) ε̂ + σ_t ξ,   ξ ~ N(0, I)
// Timesteps follow diffusers' "leading" spacing with steps_offset 1 (SD's setting): t_i = i·(T/N) + 1, and
// ᾱ_prev of the last step is ᾱ_0 ("set_alpha_to_one = False").
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Schedulers;

public sealed class DdimScheduler(NoiseSchedule schedule)
{
    public NoiseSchedule Schedule { get; } = schedule;

    /// <summary>The N sampling timesteps, from noisiest to cleanest (e.g. 981, 961, …, 1 for N = 50).</summary>
    public int[] Timesteps(int steps)
    {
        if (steps < 1 || steps > Schedule.TrainSteps) throw new ArgumentOutOfRangeException(nameof(steps), $"DDIM steps must be in [1, {Schedule.TrainSteps}]");
        var ratio = Schedule.TrainSteps / steps;
        return Enumerable.Range(0, steps).Select(i => Math.Min(i * ratio + 1, Schedule.TrainSteps - 1)).Reverse().ToArray();
    }

    /// <summary>The timestep that follows t in a grid of N steps (−1 after the last).</summary>
    public int Previous(int t, int steps) => t - Schedule.TrainSteps / steps;

    double AlphaPrev(int tPrev) => tPrev >= 0 ? Schedule.AlphasCumprod[tPrev] : Schedule.AlphasCumprod[0];

    /// <summary>One DDIM update z_t → z_prev given ε̂ (eta = 0: deterministic).</summary>
    public Tensor Step(Tensor epsilon, int t, int tPrev, Tensor zt, double eta = 0, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        double a = Schedule.AlphasCumprod[t], ap = AlphaPrev(tPrev);
        var x0 = (zt - epsilon * Math.Sqrt(1 - a)) / Math.Sqrt(a);
        var sigma = eta * Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(1 - a / ap);
        var next = x0 * Math.Sqrt(ap) + epsilon * Math.Sqrt(Math.Max(0, 1 - ap - sigma * sigma));
        if (sigma > 0) next = next + Rng.randn(zt.shape, generator, zt.device, zt.dtype) * sigma;
        return next.MoveToOuterDisposeScope();
    }
}
