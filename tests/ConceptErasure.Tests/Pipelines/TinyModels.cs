// Tiny, randomly initialised foundation models for tests: the real classes at toy sizes.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Torch;

namespace ConceptErasure.Tests.Pipelines;

internal static class TinyModels
{
    public static readonly string[] Words = ["an", "emoji", "of", "a", "delivery", "truck", "dog", "fish", "twitter", "google", "style", ","];

    public static FoundationModel Foundation(ulong seed = 0)
    {
        torch.manual_seed(seed);
        var vocab = WordTokenizer.Specials.Concat(Words).ToList();
        var config = new FoundationConfig
        {
            text_encoder = new TextEncoderConfig { vocab_size = 32, hidden_size = 16, intermediate_size = 32, num_hidden_layers = 1, num_attention_heads = 2, projection_dim = 16 },
            unet = new UNetConfig { sample_size = 4, block_out_channels = [32, 32], attention_heads = 2, cross_attention_dim = 16 },
            vae = new AutoencoderConfig { block_out_channels = [32, 32], sample_size = 8, scaling_factor = 0.5 },
        };
        return new FoundationModel(config, new WordTokenizer(vocab), new ClipTextModel(config.text_encoder),
            new UNet2DConditionModel(config.unet), new AutoencoderKL(config.vae));
    }
}
