// TinyModel.cs — a randomly initialised miniature foundation model for the erasure tests: a 24-word vocabulary,
// a one-layer 16-wide text encoder, a two-level 32-channel UNet on 4×4 latents. Untrained, but every erasure
// computation (DDIM sampling, ε̂, losses, updates) runs on it exactly as on the real model, in milliseconds.
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Erasure;

internal static class TinyModel
{
    public static readonly string[] Words =
        ["cat", "dog", "face", "truck", "car", "bus", "apple", "banana", "red", "blue", "green", "fish",
         "bird", "tree", "house", "boat", "train", "star", "moon", "sun", "road", "photo", "garbage", "a"];

    /// <summary>The model, initialised from its own generator (not libtorch's global one, which tests running in
    /// parallel share), so the same seed gives the same weights in every run.</summary>
    public static FoundationModel Create(ulong seed = 1, string prediction = "v_prediction")
    {
        var vocabulary = WordTokenizer.BuildVocabulary(Words);
        var tokenizer = new WordTokenizer(vocabulary, 16);
        var text = new TextEncoderConfig
        {
            vocab_size = vocabulary.Count, hidden_size = 16, intermediate_size = 32, num_hidden_layers = 1,
            num_attention_heads = 2, max_position_embeddings = 16, projection_dim = 16,
        };
        var unet = new UNetConfig { block_out_channels = [32, 32], attention_heads = 2, cross_attention_dim = 16, sample_size = 4, prediction_type = prediction };
        var vae = new AutoencoderConfig { block_out_channels = [32], sample_size = 4 };
        var config = new FoundationConfig { text_encoder = text, unet = unet, vae = vae };
        ClipTextModel textModel; UNet2DConditionModel unetModel; AutoencoderKL vaeModel;
                {
            textModel = new ClipTextModel(text);
            unetModel = new UNet2DConditionModel(unet);
            vaeModel = new AutoencoderKL(vae);
        }
        using var g = Rng.Create(seed);
        foreach (var m in new nn.Module[] { textModel, unetModel, vaeModel }) Initialise(m, g);
        return new FoundationModel(config, tokenizer, textModel, unetModel, vaeModel);
    }

    /// <summary>PyTorch's default initialisation (U(±1/√fan_in) for linear and convolution layers, N(0, 0.02²) for
    /// embeddings, 1 and 0 for norms) drawn from a given generator.</summary>
    internal static void Initialise(nn.Module root, Generator g)
    {
        using var _ = no_grad();
        var done = new HashSet<string>();
        // pre-order (a module, then its children in registration order), so the draws land where they always did
        static IEnumerable<(string, nn.Module)> PreOrder(string prefix, nn.Module m) =>
            new[] { (prefix, m) }.Concat(m.named_children().SelectMany(c => PreOrder(prefix.Length == 0 ? c.name : prefix + "." + c.name, c.module)));
        foreach (var (prefix, m) in PreOrder("", root))
        {
            // each module's own parameters, by name (TorchSharp may hand out a new wrapper per property access)
            var own = m.named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter);
            void Uniform(string name, long fanIn)
            {
                if (!own.TryGetValue(name, out var p)) return;
                var b = 1.0 / Math.Sqrt(fanIn);
                p.uniform_(-b, b, g);
                done.Add(Join(prefix, name));
            }
            switch (m)
            {
                case Linear l:
                    Uniform("weight", l.in_features);
                    Uniform("bias", l.in_features);
                    break;
                case Conv2d c:
                    var fan = c.in_channels / c.groups * c.kernel_size.Aggregate(1L, (a, k) => a * k);
                    Uniform("weight", fan);
                    Uniform("bias", fan);
                    break;
                case Embedding:
                    own["weight"].normal_(0, 0.02, g);
                    done.Add(Join(prefix, "weight"));
                    break;
                case GroupNorm or LayerNorm:
                    foreach (var (name, p) in own) { p.fill_(name == "weight" ? 1 : 0); done.Add(Join(prefix, name)); }
                    break;
            }
        }
        static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
        var missed = root.named_parameters().Select(p => p.name).Where(n => !done.Contains(n)).ToList();
        if (missed.Count > 0) throw new InvalidOperationException($"TinyModel does not know how to initialise {string.Join(", ", missed)}");
    }

    /// <summary>Small, fast settings: a 10-step DDIM grid, few iterations.</summary>
    public static ErasureConfig Config(string method, params string[] erase) => new()
    {
        method = method, erase = erase, ddim_steps = 10, iterations = 3, lr = 1e-3, seed = 7, log_every = 1,
        vocabulary = Words, top_k = 12, candidates = 4,
    };

    /// <summary>Moves θ′'s trained group away from θ (so that θ′ ≠ θ and every term of the losses matters).</summary>
    public static void Perturb(ErasureMethod method, double scale = 0.2, ulong seed = 99)
    {
        using var scope = NewDisposeScope();
        using var g = Rng.Create(seed);
        using var _ = no_grad();
        foreach (var (_, p) in method.TrainedParameters) p.add_(Rng.randn(p.shape, g) * scale);
    }

    /// <summary>Bytes of every parameter, by name (for bitwise comparisons).</summary>
    public static Dictionary<string, byte[]> Snapshot(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => Serialization.Bytes(p.parameter));

    /// <summary>Mean of squared differences in float64 on the host.</summary>
    public static double MeanSquare(Tensor a, Tensor b)
    {
        var x = a.ToDoubles();
        var y = b.ToDoubles();
        Assert.Equal(x.Length, y.Length);
        double s = 0;
        for (var i = 0; i < x.Length; i++) s += (x[i] - y[i]) * (x[i] - y[i]);
        return s / x.Length;
    }

    public static void Close(double expected, double actual, double rtol = 1e-5)
    {
        Assert.True(double.IsFinite(actual), $"loss is {actual}");
        Assert.True(Math.Abs(expected - actual) <= rtol * Math.Abs(expected) + 1e-12,
            $"expected {expected:R}, got {actual:R} (relative error {Math.Abs(expected - actual) / Math.Abs(expected):E2})");
    }
}
