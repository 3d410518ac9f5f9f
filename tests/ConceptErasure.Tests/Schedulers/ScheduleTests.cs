// The noise schedule and DDIM: Stable Diffusion's ᾱ values, exact DDIM identities, parameterisation conversions.
using ConceptErasure.Schedulers;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Schedulers;

public class ScheduleTests
{
    static readonly NoiseSchedule Sd = new();

    [Fact]
    public void ScaledLinearScheduleHasStableDiffusionsValues()
    {
        var a = Sd.AlphasCumprod;
        Assert.Equal(1000, a.Length);
        Assert.Equal(1 - 0.00085, a[0], 12);                 // ᾱ_0 = 1 − β_0
        Assert.InRange(a[999], 0.00465, 0.00467);              // SD v1's final ᾱ ≈ 0.004660
        Assert.True(a.Zip(a.Skip(1)).All(p => p.Second < p.First));
        var b1 = 1 - a[1] / a[0];                              // β_1 = (√β₀ + (√β₁ − √β₀)/999)²
        var expected = Math.Pow(Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) / 999, 2);
        Assert.Equal(expected, b1, 12);
    }

    [Fact]
    public void DdimTimestepsAreLeadingSpacedWithOffsetOne()
    {
        var d = new DdimScheduler(Sd);
        var ts = d.Timesteps(50);
        Assert.Equal(981, ts[0]);
        Assert.Equal(1, ts[^1]);
        Assert.All(ts.Zip(ts.Skip(1)), p => Assert.Equal(20, p.First - p.Second));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Timesteps(0));
    }

    [Fact]
    public void DeterministicDdimStepWithTrueNoiseLandsOnTheForwardProcess()
    {
        // z_t = √ᾱ_t z₀ + √(1−ᾱ_t) ε  and ε̂ = ε  ⇒  DDIM(η = 0) gives √ᾱ_prev z₀ + √(1−ᾱ_prev) ε exactly.
        using var scope = NewDisposeScope();
        using var g = Rng.Create(1);
        var d = new DdimScheduler(Sd);
        var z0 = Rng.randn([2, 4, 8, 8], g, dtype: ScalarType.Float64);
        var eps = Rng.randn([2, 4, 8, 8], g, dtype: ScalarType.Float64);
        foreach (var (t, prev) in new[] { (981, 961), (501, 481), (21, 1) })
        {
            var zt = Sd.AddNoise(z0, eps, torch.tensor(new long[] { t, t }));
            var stepped = d.Step(eps, t, prev, zt);
            var expected = Sd.AddNoise(z0, eps, torch.tensor(new long[] { prev, prev }));
            Assert.True(torch.allclose(stepped, expected, 1e-10, 1e-10), $"t = {t}");
        }
    }

    [Fact]
    public void VPredictionConvertsBackToEpsilonAndX0()
    {
        using var scope = NewDisposeScope();
        using var g = Rng.Create(2);
        var z0 = Rng.randn([3, 4, 8, 8], g, dtype: ScalarType.Float64);
        var eps = Rng.randn([3, 4, 8, 8], g, dtype: ScalarType.Float64);
        var t = torch.tensor(new long[] { 0, 400, 999 });
        var zt = Sd.AddNoise(z0, eps, t);
        var v = Sd.Target(Prediction.V, z0, eps, t);
        Assert.True(torch.allclose(Sd.Epsilon(Prediction.V, v, zt, t), eps, 1e-9, 1e-9));
        Assert.True(torch.allclose(Sd.X0(Prediction.V, v, zt, t), z0, 1e-9, 1e-9));
        Assert.True(torch.allclose(Sd.X0(Prediction.Epsilon, eps, zt, t), z0, 1e-6, 1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sd.AddNoise(z0, eps, torch.tensor(new long[] { 0, 1, 1000 })));
    }
}
