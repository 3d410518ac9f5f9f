// Decoder-only fine-tuning of the autoencoder: the latent space (encoder, quant_conv, scale) must stay exactly
// as it was, because a UNet trained on those latents is kept; the decoder must actually train.
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Tests.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ConceptErasure.Training;

namespace ConceptErasure.Tests.Training;

[Collection("global torch state")]
public class AutoencoderTrainingTests
{
    static AutoencoderConfig Small => new() { block_out_channels = [8, 16, 32], norm_num_groups = 4, scaling_factor = 0.75 };

    static EmojiTrainingSet Sprites() => RealEmojiData.Sprites(60);

    static string SaveInit(AutoencoderKL vae)
    {
        var dir = Directory.CreateTempSubdirectory("ce-vae-init").FullName;
        Serialization.SaveModule(vae, Path.Combine(dir, "vae.safetensors"));
        File.WriteAllText(Path.Combine(dir, "vae.json"), new JsonObject
        {
            ["config"] = JsonNode.Parse(JsonSerializer.Serialize(vae.config, FoundationConfig.Json)),
        }.ToJsonString());
        return dir;
    }

    static Dictionary<string, float[]> Weights(string file)
    {
        using var vae = new AutoencoderKL(Small);
        Serialization.LoadModule(vae, file);
        return vae.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    [Fact]
    public void DecoderOnlyFineTuningKeepsTheLatentSpaceAndTrainsTheDecoder()
    {
        torch.manual_seed(1);
        using var start = new AutoencoderKL(Small);
        var init = SaveInit(start);
        var before = Weights(Path.Combine(init, "vae.safetensors"));
        var run = Directory.CreateTempSubdirectory("ce-vae-run").FullName;
        using var sprites = Sprites();
        var c = new AutoencoderTrainingConfig
        {
            loop = new LoopOptions { steps = 3, batch_size = 8, checkpoint_every = 10, log_every = 100 },
            init = init, train_encoder = false, lr = 1e-3,
        };
        var report = AutoencoderTraining.Train(sprites, Small, c, run, resume: false, TextWriter.Null);
        var after = Weights(Path.Combine(run, "vae.safetensors"));

        Assert.Equal(0.75, report.ScalingFactor);   // the scale belongs to the frozen encoder
        foreach (var (name, w) in before)
        {
            var frozen = name.StartsWith("encoder.") || name.StartsWith("quant_conv.");
            if (frozen) Assert.True(w.SequenceEqual(after[name]), $"{name} changed under decoder-only training");
        }
        var moved = before.Keys.Where(n => n.StartsWith("decoder.") && !before[n].SequenceEqual(after[n])).Count();
        Assert.True(moved > before.Keys.Count(n => n.StartsWith("decoder.")) / 2, $"only {moved} decoder tensors changed");
    }

    [Fact]
    public void DecoderOnlyWithoutAStartingAutoencoderIsRefused()
    {
        using var sprites = Sprites();
        var run = Directory.CreateTempSubdirectory("ce-vae-run").FullName;
        var ex = Assert.Throws<ArgumentException>(() => AutoencoderTraining.Train(sprites, Small,
            new AutoencoderTrainingConfig { train_encoder = false }, run, resume: false, TextWriter.Null));
        Assert.Contains("init", ex.Message);
    }
}
