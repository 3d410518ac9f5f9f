// The sampling pipeline: hand-over between runs is exact, guidance combines as written, the model bundle
// survives a save/load round trip, and bad folders give one clear error.
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Pipelines;

[Collection("global torch state")]
public class PipelineTests
{
    [Fact]
    public void DenoisingInTwoLegsEqualsOneRun()
    {
        using var model = TinyModel.Create();
        var pipe = new StableDiffusionPipeline(model);
        using var scope = NewDisposeScope();
        var o = new SamplingOptions { steps = 10, guidance_scale = 3 };
        var cond = model.Prompts.Encode(["a dog", "red truck"]);
        var uncond = model.Prompts.Encode(["", ""]);
        using var g = Rng.Create(4);
        var z = pipe.InitialNoise(2, g);
        var full = pipe.Denoise(model.Unet, z, cond, uncond, o, 0, 10);
        var half = pipe.Denoise(model.Unet, z, cond, uncond, o, 0, 4);
        var rest = pipe.Denoise(model.Unet, half, cond, uncond, o, 4, 10);
        Assert.True(torch.allclose(full, rest, 0, 0));
        // hand-over to another model changes the result only through the second leg
        using var other = model.Unet.Clone();
        using (no_grad()) foreach (var p in other.named_parameters().Where(p => p.name.Contains(".attn2."))) p.parameter.mul_(0.5);
        var handed = pipe.Denoise(other, half, cond, uncond, o, 4, 10);
        Assert.False(torch.allclose(handed, full, 1e-6, 1e-6));
    }

    [Fact]
    public void GuidanceIsTheLinearCombination()
    {
        using var model = TinyModel.Create(11);
        var pipe = new StableDiffusionPipeline(model);
        using var scope = NewDisposeScope();
        using var g = Rng.Create(5);
        var z = pipe.InitialNoise(1, g);
        var c = model.Prompts.Encode(["fish"]);
        var u = model.Prompts.Encode([""]);
        var t = torch.tensor(new long[] { 501 });
        using var _ = no_grad();
        var ec = pipe.Epsilon(model.Unet, z, t, c);
        var eu = pipe.Epsilon(model.Unet, z, t, u);
        var guided = pipe.GuidedEpsilon(model.Unet, z, 501, c, u, 7.5);
        Assert.True(torch.allclose(guided, eu + (ec - eu) * 7.5, 1e-5, 1e-5));
    }

    [Fact]
    public void FoundationModelRoundTripsThroughItsFolder()
    {
        var dir = Directory.CreateTempSubdirectory("ce-fm");
        try
        {
            using var model = TinyModel.Create(12);
            model.Save(dir.FullName);
            using var back = FoundationModel.Load(dir.FullName);
            foreach (var (k, v) in model.Unet.state_dict()) Assert.True(torch.allclose(v, back.Unet.state_dict()[k], 0, 0), k);
            Assert.Equal(model.Config.vae.scaling_factor, back.Config.vae.scaling_factor);

            File.WriteAllText(Path.Combine(dir.FullName, "model.json"), File.ReadAllText(Path.Combine(dir.FullName, "model.json")).Replace("\"sample_size\"", "\"sample_sise\""));
            Assert.Contains("model.json", Assert.Throws<InvalidDataException>(() => FoundationModel.Load(dir.FullName)).Message);
            Assert.Throws<DirectoryNotFoundException>(() => FoundationModel.Load(Path.Combine(dir.FullName, "nope")));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void UnknownWordsInPromptsAreRefused()
    {
        using var model = TinyModel.Create(13);
        Assert.Throws<ConceptErasure.Data.UnknownWordsException>(() => model.Prompts.Encode(["a zebra"]));
    }

    [Fact]
    public void SamplingOptionsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { steps = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { guidance_scale = double.NaN }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { eta = 2 }.Validate());
    }
}
