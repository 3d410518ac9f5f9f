// FoundationModel.cs — the text-to-image model every notebook and command runs on: tokenizer + frozen text
// encoder + UNet + autoencoder + noise schedule, loaded from one folder (data/models/foundation by default):
//   model.json              configs of all parts (unknown keys are errors), prediction type, latent scale
//   text_encoder.safetensors, unet.safetensors, vae.safetensors, vocab.txt, MODEL_CARD.md
using System.Text.Json;
using System.Text.Json.Serialization;
using ConceptErasure.Data;
using ConceptErasure.Pipelines;
using ConceptErasure.Schedulers;
using ConceptErasure.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

public sealed record FoundationConfig
{
    public TextEncoderConfig text_encoder { get; init; } = new();
    public UNetConfig unet { get; init; } = new();
    public AutoencoderConfig vae { get; init; } = new();
    public int train_timesteps { get; init; } = NoiseSchedule.DefaultTrainSteps;
    public double beta_start { get; init; } = 0.00085;   // Stable Diffusion's scaled-linear schedule
    public double beta_end { get; init; } = 0.012;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,   // unknown keys are errors
        Converters = { new JsonStringEnumConverter() },
    };

    public static FoundationConfig Load(string path)
    {
        var text = File.ReadAllText(path);
        StrictJson.Check(text, path);
        FoundationConfig config;
        try { config = JsonSerializer.Deserialize<FoundationConfig>(text, Json) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        var problems = config.Problems();
        if (problems.Count > 0) throw new InvalidDataException($"{path}: " + string.Join("; ", problems));
        return config;
    }

    /// <summary>Values no model of this family can have (sizes ≤ 0 or absurdly large, an empty schedule), one line each.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        void Size(string what, long v, long max) { if (v < 1 || v > max) p.Add($"{what} must lie in [1, {max}], got {v}"); }
        Size("train_timesteps", train_timesteps, 100_000);
        if (!(beta_start > 0 && beta_end > beta_start && beta_end < 1)) p.Add($"betas must satisfy 0 < beta_start < beta_end < 1, got {beta_start}, {beta_end}");
        Size("text_encoder.vocab_size", text_encoder.vocab_size, 1_000_000);
        Size("text_encoder.max_position_embeddings", text_encoder.max_position_embeddings, 4096);
        Size("text_encoder.hidden_size", text_encoder.hidden_size, 16_384);
        Size("text_encoder.intermediate_size", text_encoder.intermediate_size, 65_536);
        Size("text_encoder.num_hidden_layers", text_encoder.num_hidden_layers, 256);
        Size("text_encoder.num_attention_heads", text_encoder.num_attention_heads, 256);
        Size("unet.sample_size", unet.sample_size, 1024);
        Size("unet.in_channels", unet.in_channels, 64);
        Size("unet.out_channels", unet.out_channels, 64);
        foreach (var c in unet.block_out_channels) Size("unet.block_out_channels", c, 16_384);
        Size("unet.layers_per_block", unet.layers_per_block, 64);
        Size("unet.attention_heads", unet.attention_heads, 256);
        Size("unet.cross_attention_dim", unet.cross_attention_dim, 16_384);
        Size("unet.norm_num_groups", unet.norm_num_groups, 1024);
        Size("vae.sample_size", vae.sample_size, 4096);
        Size("vae.latent_channels", vae.latent_channels, 64);
        foreach (var c in vae.block_out_channels) Size("vae.block_out_channels", c, 16_384);
        if (p.Count > 0) return p;
        try { unet.Validate(); } catch (ArgumentException e) { p.Add(e.Message); }
        if (unet.cross_attention_dim != text_encoder.hidden_size)
            p.Add($"unet.cross_attention_dim {unet.cross_attention_dim} ≠ text_encoder.hidden_size {text_encoder.hidden_size}");
        return p;
    }
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public sealed class FoundationModel : IDisposable
{
    public FoundationConfig Config { get; }
    public WordTokenizer Tokenizer { get; }
    public ClipTextModel TextEncoder { get; }
    public UNet2DConditionModel Unet { get; }
    public AutoencoderKL Vae { get; }
    public NoiseSchedule Schedule { get; }
    public PromptEncoder Prompts { get; }
    public Prediction Prediction => NoiseSchedule.ParsePrediction(Config.unet.prediction_type);
    public Device Device => Unet.parameters().First().device;
    /// <summary>The folder the weights were loaded from (null for a model built in memory).</summary>
    public string? Folder { get; private init; }

    public FoundationModel(FoundationConfig config, WordTokenizer tokenizer, ClipTextModel text, UNet2DConditionModel unet, AutoencoderKL vae)
    {
        (Config, Tokenizer, TextEncoder, Unet, Vae) = (config, tokenizer, text, unet, vae);
        Schedule = new NoiseSchedule(config.train_timesteps, config.beta_start, config.beta_end);
        TextEncoder.Freeze().eval();
        Vae.Freeze().eval();
        Unet.eval();
        Prompts = new PromptEncoder(tokenizer, text);
    }

    public const string DefaultFolderName = "foundation";
    public static string DefaultPath => Path.Combine(DataPaths.DataDir(), "models", DefaultFolderName);

    /// <summary>Loads the model in a folder (default: the shipped one). Every file is validated; a problem is one
    /// clear error naming the file.</summary>
    public static FoundationModel Load(string? folder = null, Device? device = null)
    {
        folder ??= DefaultPath;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no foundation model at {folder}");
        var config = FoundationConfig.Load(Path.Combine(folder, "model.json"));
        var tokenizer = WordTokenizer.Load(Path.Combine(folder, "vocab.txt"), config.text_encoder.max_position_embeddings);
        ClipTextModel? text = null; UNet2DConditionModel? unet = null; AutoencoderKL? vae = null;
        try
        {
            text = new ClipTextModel(config.text_encoder);
            unet = new UNet2DConditionModel(config.unet);
            vae = new AutoencoderKL(config.vae);
            Serialization.LoadModule(text, Path.Combine(folder, "text_encoder.safetensors"));
            Serialization.LoadModule(unet, Path.Combine(folder, "unet.safetensors"));
            Serialization.LoadModule(vae, Path.Combine(folder, "vae.safetensors"));
            if (device is { } d) { text.to(d); unet.to(d); vae.to(d); }
            return new FoundationModel(config, tokenizer, text, unet, vae) { Folder = Path.GetFullPath(folder) };
        }
        catch
        {
            text?.Dispose(); unet?.Dispose(); vae?.Dispose();
            throw;
        }
    }

    /// <summary>Writes the model folder (weights as float32 safetensors, config, vocabulary), atomically per file.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "model.json"), Config.ToJson() + "\n");
        Tokenizer.Save(Path.Combine(folder, "vocab.txt"));
        Serialization.SaveModule(TextEncoder, Path.Combine(folder, "text_encoder.safetensors"));
        Serialization.SaveModule(Unet, Path.Combine(folder, "unet.safetensors"));
        Serialization.SaveModule(Vae, Path.Combine(folder, "vae.safetensors"));
    }

    /// <summary>z = scaling_factor · E(x): images in [−1, 1] → diffusion latents (posterior mean).</summary>
    public Tensor EncodeImages(Tensor images)
    {
        using var _ = no_grad();
        using var q = Vae.encode(images);
        return q.mean * Config.vae.scaling_factor;
    }

    /// <summary>x = D(z / scaling_factor), clamped to [−1, 1].</summary>
    public Tensor DecodeLatents(Tensor z)
    {
        using var _ = no_grad();
        using var unscaled = z / Config.vae.scaling_factor;
        using var x = Vae.decode(unscaled);
        return x.clamp(-1, 1);
    }

    public void Dispose()
    {
        Prompts.Dispose();
        TextEncoder.Dispose(); Unet.Dispose(); Vae.Dispose();
    }
}
