// δ(c) = ‖ε_θ′(z, t, c) − ε_θ(z, t, c)‖²: zero for an unchanged model, positive once θ′ moves, and larger for the
// prompt whose cross-attention path was changed than the measure of an untouched path would be.
using ConceptErasure.Evaluation;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class SensitivityTests
{
    static readonly string[] Concepts = ["truck", "car", "cat", "", "a photo"];

    [Fact]
    public void AnUnchangedModelHasZeroSensitivityEverywhere()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        using var copy = model.Unet.Clone();
        var d = Sensitivity.Delta(model, model.Unet, copy, Concepts, new SensitivityOptions { latents = 2, batch = 2 });
        Assert.Equal(Concepts.Length, d.Length);
        Assert.All(d, x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void ChangingCrossAttentionMovesEveryPromptAndTheBatchSizeDoesNotMatter()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        using var erased = model.Unet.Clone();
        using (no_grad())
        using (var g = Rng.Create(3))
            foreach (var (name, p) in erased.named_parameters().Where(p => p.name.Contains(".attn2.to_k.")))
                p.add_(Rng.randn(p.shape, g) * 0.2);
        var one = Sensitivity.Delta(model, model.Unet, erased, Concepts, new SensitivityOptions { latents = 2, batch = 1 });
        var all = Sensitivity.Delta(model, model.Unet, erased, Concepts, new SensitivityOptions { latents = 2, batch = 5 });
        Assert.All(one, x => Assert.True(x > 1e-8, $"δ = {x}: a changed attn2 must change ε̂"));
        for (var i = 0; i < one.Length; i++) Assert.Equal(one[i], all[i], 1e-6 * Math.Max(1, one[i]) * 10);
    }
}
