// The partial-diffusion attack's hand-over (Audit/PartialDiffusion.cs) on a tiny model: ψ = 0 is the erased model's
// own generation and ψ = 1 the original's, bit for bit from the same seeds; an intermediate ψ is neither; the
// hand-over step rounds as documented; a ψ outside [0, 1] or a repeated grid point is refused.
using ConceptErasure.Audit;
using ConceptErasure.Evaluation;
using ConceptErasure.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Audit;

public class PartialDiffusionTests
{
    /// <summary>Bit-identical: same shape and every element equal.</summary>
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().ToBoolean();

    static readonly SamplingOptions Sampling = new() { steps = 10, guidance_scale = 2 };

    /// <summary>The tiny model and an "erased" copy of its UNet whose attn2 weights were perturbed.</summary>
    static (StableDiffusionPipeline pipe, ConceptErasure.Models.UNet2DConditionModel erased) Setup()
    {
        var model = Erasure.TinyModel.Create(3);
        var erased = model.Unet.Clone();
        using var g = ConceptErasure.Engine.Rng.Create(11);
        using (no_grad())
            foreach (var (name, p) in erased.named_parameters())
                if (name.Contains("attn2")) p.add_(ConceptErasure.Engine.Rng.randn(p.shape, g) * 0.5);
        return (new StableDiffusionPipeline(model), erased);
    }

    [Fact]
    public void The_two_ends_are_the_erased_and_the_original_model_alone()
    {
        using var scope = NewDisposeScope();
        var (pipe, erased) = Setup();
        var original = pipe.Model.Unet;
        const string prompt = "a red truck";
        var alone = QualityGate.Generate(pipe, erased, prompt, 3, Sampling, 40);
        var orig = QualityGate.Generate(pipe, original, prompt, 3, Sampling, 40);
        Assert.False(Same(alone, orig), "the perturbation must change the images, or this test proves nothing");
        Assert.True(Same(PartialDiffusion.Attack(pipe, original, erased, prompt, 3, 0, Sampling, 40), alone));
        Assert.True(Same(PartialDiffusion.Attack(pipe, original, erased, prompt, 3, 1, Sampling, 40), orig));
        var half = PartialDiffusion.Attack(pipe, original, erased, prompt, 3, 0.5, Sampling, 40);
        Assert.False(Same(half, alone));
        Assert.False(Same(half, orig));
    }

    [Fact]
    public void The_hand_over_is_one_continuous_trajectory()
    {
        // handing over to the same UNet must give the uninterrupted run at every ψ (nothing resets at the hand-off)
        using var scope = NewDisposeScope();
        var (pipe, _) = Setup();
        var u = pipe.Model.Unet;
        var full = QualityGate.Generate(pipe, u, "a blue fish", 2, Sampling, 5);
        foreach (var psi in new[] { 0.1, 0.35, 0.9 })
        {
            var split = PartialDiffusion.Attack(pipe, u, u, "a blue fish", 2, psi, Sampling, 5);
            Assert.True(Same(split, full), $"ψ = {psi}");
        }
    }

    [Theory]
    [InlineData(0.001, 25, 0)]
    [InlineData(0.01, 25, 0)]
    [InlineData(0.05, 25, 1)]   // 1.25 → 1
    [InlineData(0.15, 25, 4)]   // 3.75 → 4
    [InlineData(0.1, 25, 3)]    // 2.5 → 3 (halves up)
    [InlineData(0.55, 50, 28)]  // 27.5 → 28
    [InlineData(1.0, 25, 25)]
    public void The_hand_over_step_rounds_psi_times_steps(double psi, int steps, int expected) =>
        Assert.Equal(expected, PartialDiffusion.HandOverStep(psi, steps));

    [Fact]
    public void Bad_grids_and_psi_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartialDiffusionOptions { psi = [0, 1.5] }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartialDiffusionOptions { psi = [-0.1] }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartialDiffusionOptions { psi = [double.NaN] }.Validate());
        Assert.Throws<ArgumentException>(() => new PartialDiffusionOptions { psi = [0.1, 0.1] }.Validate());
        Assert.Throws<ArgumentException>(() => new PartialDiffusionOptions { psi = [] }.Validate());
        new PartialDiffusionOptions().Validate();
        var (pipe, erased) = Setup();
        Assert.Throws<ArgumentOutOfRangeException>(() => PartialDiffusion.Attack(pipe, pipe.Model.Unet, erased, "a cat", 1, 1.01, Sampling, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartialDiffusion.Attack(pipe, pipe.Model.Unet, erased, "a cat", 0, 0.5, Sampling, 0));
    }
}
