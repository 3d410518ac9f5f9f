// Clip.cs — a tiny CLIP (Radford et al. 2021): an image tower and the text tower of TextEncoder.cs trained
// contrastively on emoji/caption pairs. It plays two roles, as in the paper's setting: its text tower is the
// frozen text encoder of the foundation model (SD uses CLIP's), and CLIP score = 100·cos(image, text) is an
// evaluation metric. Loss: symmetric cross-entropy over the batch's image–text similarity matrix.
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

public sealed record ClipConfig
{
    public TextEncoderConfig text { get; init; } = new();
    public int[] vision_channels { get; init; } = [32, 64, 128];   // conv tower: 32 → 16 → 8 → pooled
    public int image_size { get; init; } = 32;
}

/// <summary>Residual conv tower: conv_in, stages of [ResnetBlock2D, stride-2 conv], group norm, global average pool.</summary>
public sealed class ClipVisionTower : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_in;
    public readonly ModuleList<ResnetBlock2D> blocks;
    public readonly ModuleList<Downsample2D> downsamplers;
    public readonly GroupNorm norm_out;
    readonly int[] ch;
    public ClipVisionTower(int[] channels) : base(nameof(ClipVisionTower))
    {
        ch = channels;
        conv_in = nn.Conv2d(3, ch[0], 3, padding: 1);
        blocks = nn.ModuleList(Enumerable.Range(0, ch.Length)
            .Select(i => new ResnetBlock2D(i == 0 ? ch[0] : ch[i - 1], ch[i], 0, Math.Min(32, ch[i] / 4), 1e-5)).ToArray());
        downsamplers = nn.ModuleList(ch.Select(c => new Downsample2D(c)).ToArray());
        norm_out = Layers.GroupNorm(Math.Min(32, ch[^1] / 4), ch[^1]);
        RegisterComponents();
    }
    public int Width => ch[^1];
    public override Tensor forward(Tensor x)   // (B, 3, 32, 32) → (B, C)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(x);
        for (var i = 0; i < blocks.Count; i++) h = downsamplers[i].forward(blocks[i].forward(h, null));
        return norm_out.forward(h).silu().mean([2, 3]).MoveToOuterDisposeScope();
    }
}

public sealed class ClipModel : nn.Module
{
    public readonly ClipConfig config;
    public readonly ClipTextModel text;
    public readonly ClipVisionTower vision;
    public readonly Linear text_projection, visual_projection;
    public readonly Parameter logit_scale;

    public ClipModel(ClipConfig config) : base(nameof(ClipModel))
    {
        this.config = config;
        text = new ClipTextModel(config.text);
        vision = new ClipVisionTower(config.vision_channels);
        text_projection = nn.Linear(config.text.hidden_size, config.text.projection_dim, hasBias: false);
        visual_projection = nn.Linear(vision.Width, config.text.projection_dim, hasBias: false);
        logit_scale = nn.Parameter(torch.tensor(Math.Log(1 / 0.07), ScalarType.Float32));
        RegisterComponents();
    }

    /// <summary>Unit-norm text embeddings (B, P).</summary>
    public Tensor EmbedText(Tensor ids, Tensor eos)
    {
        using var scope = NewDisposeScope();
        using var enc = text.forward(ids, eos);
        var e = text_projection.forward(enc.pooled);
        return (e / e.norm(1, keepdim: true)).MoveToOuterDisposeScope();
    }
    /// <summary>Unit-norm image embeddings (B, P); images in [−1, 1].</summary>
    public Tensor EmbedImage(Tensor images)
    {
        using var scope = NewDisposeScope();
        var e = visual_projection.forward(vision.forward(images));
        return (e / e.norm(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>L = ½[CE(s·I·Tᵀ, P) + CE(s·T·Iᵀ, Pᵀ)], s = exp(logit_scale) ≤ 100, with soft targets P: row i
    /// spreads its mass over every caption that truly describes image i (a batch can hold the same concept
    /// twice, and "delivery truck" describes both styles' sprites). positives: (B_img, B_txt) 0/1.</summary>
    public Tensor ContrastiveLoss(Tensor imageEmb, Tensor textEmb, Tensor positives)
    {
        using var scope = NewDisposeScope();
        var scale = logit_scale.clamp_max(Math.Log(100)).exp();
        var logits = Guarded.matmul(imageEmb, textEmb.T) * scale;                          // (B, B)
        var imageTargets = positives / positives.sum(1, keepdim: true);
        var textTargets = positives.T / positives.T.sum(1, keepdim: true);
        var loss = (nn.functional.cross_entropy(logits, imageTargets) + nn.functional.cross_entropy(logits.T, textTargets)) * 0.5;
        return loss.MoveToOuterDisposeScope();
    }

    // ---- the shipped CLIP (data/models/clip: clip.json {"config": …}, clip.safetensors) -----------------------------
    public static string DefaultPath => Path.Combine(DataPaths.DataDir(), "models", "clip");

    /// <summary>Writes clip.json ({"config": …}) and clip.safetensors, the layout <see cref="Load"/> reads.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        Serialization.SaveModule(this, Path.Combine(folder, "clip.safetensors"));
        AtomicFile.WriteAllText(Path.Combine(folder, "clip.json"), new JsonObject { ["config"] = JsonSerializer.SerializeToNode(config, FoundationConfig.Json) }.ToJsonString(FoundationConfig.Json) + "\n");
    }

    /// <summary>The CLIP of a folder (default: the shipped one), frozen, in eval mode.</summary>
    public static ClipModel Load(string? folder = null)
    {
        folder ??= DefaultPath;
        var path = Path.Combine(folder, "clip.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"no CLIP at {folder} (expected {path})");
        ClipConfig config;
        try { config = JsonNode.Parse(File.ReadAllText(path))!["config"].Deserialize<ClipConfig>(FoundationConfig.Json)!; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        var clip = new ClipModel(config);
        Serialization.LoadModule(clip, Path.Combine(folder, "clip.safetensors"));
        clip.eval();
        clip.Freeze();
        return clip;
    }
}
