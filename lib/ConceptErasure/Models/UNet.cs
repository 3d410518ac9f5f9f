// UNet.cs — the denoiser of latent diffusion (Rombach et al. 2022), the UNet2DConditionModel of Stable Diffusion
// in miniature: a timestep embedding, residual blocks, and transformer blocks whose self-attention (attn1) and
// cross-attention to the text (attn2) give the model its text control. Module and parameter names follow
// diffusers (down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight, …) so "only attn2" (ESD-x) and
// "all but attn2" (ESD-u) select the same roles here as on Stable Diffusion; UNetConfig.StableDiffusionV1
// builds SD v1's exact architecture (859,520,964 parameters) from the same code.
using TorchSharp;
using TorchSharp.Modules;
using ConceptErasure.Engine;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

public enum DownBlockType { CrossAttnDownBlock2D, DownBlock2D }
public enum UpBlockType { CrossAttnUpBlock2D, UpBlock2D }

public sealed record UNetConfig
{
    public int sample_size { get; init; } = 8;                 // latent height = width
    public int in_channels { get; init; } = 4;                 // latent channels
    public int out_channels { get; init; } = 4;
    public int[] block_out_channels { get; init; } = [64, 128];        // latent 8×8 → 4×4 (sized for CPU: see bench models)
    public DownBlockType[] down_block_types { get; init; } = [DownBlockType.CrossAttnDownBlock2D, DownBlockType.CrossAttnDownBlock2D];
    public UpBlockType[] up_block_types { get; init; } = [UpBlockType.CrossAttnUpBlock2D, UpBlockType.CrossAttnUpBlock2D];
    public int layers_per_block { get; init; } = 1;
    public int attention_heads { get; init; } = 4;             // heads per transformer (SD v1: 8)
    public int cross_attention_dim { get; init; } = 128;       // = text encoder hidden_size (SD v1: 768)
    public int norm_num_groups { get; init; } = 32;
    public double norm_eps { get; init; } = 1e-5;
    public bool mid_block_attention { get; init; } = true;
    /// <summary>"epsilon" or "v_prediction": what the network outputs (see Schedulers/NoiseSchedule).</summary>
    public string prediction_type { get; init; } = "v_prediction";

    public static UNetConfig StableDiffusionV1 => new()
    {
        sample_size = 64, block_out_channels = [320, 640, 1280, 1280],
        down_block_types = [DownBlockType.CrossAttnDownBlock2D, DownBlockType.CrossAttnDownBlock2D, DownBlockType.CrossAttnDownBlock2D, DownBlockType.DownBlock2D],
        up_block_types = [UpBlockType.UpBlock2D, UpBlockType.CrossAttnUpBlock2D, UpBlockType.CrossAttnUpBlock2D, UpBlockType.CrossAttnUpBlock2D],
        layers_per_block = 2, attention_heads = 8, cross_attention_dim = 768, prediction_type = "epsilon", mid_block_attention = true,
    };

    public void Validate()
    {
        if (block_out_channels.Length != down_block_types.Length || block_out_channels.Length != up_block_types.Length)
            throw new ArgumentException("UNetConfig: block_out_channels, down_block_types and up_block_types must have the same length");
        foreach (var c in block_out_channels)
        {
            if (c % norm_num_groups != 0) throw new ArgumentException($"UNetConfig: {c} channels are not divisible into {norm_num_groups} groups");
            if (c % attention_heads != 0) throw new ArgumentException($"UNetConfig: {c} channels are not divisible into {attention_heads} heads");
        }
        if (prediction_type is not ("epsilon" or "v_prediction")) throw new ArgumentException($"UNetConfig: unknown prediction_type '{prediction_type}'");
        if (sample_size % (1 << (block_out_channels.Length - 1)) != 0) throw new ArgumentException("UNetConfig: sample_size must be divisible by 2^(blocks−1)");
    }
}

/// <summary>Sinusoidal timestep features (diffusers' Timesteps with flip_sin_to_cos, shift 0): [cos(t·f), sin(t·f)],
/// f_i = exp(−ln(10000)·i/half).</summary>
public static class TimestepFeatures
{
    public static Tensor Embed(Tensor timesteps, int dim)   // (B) → (B, dim)
    {
        using var scope = NewDisposeScope();
        var half = dim / 2;
        var freqs = (arange(0, half, 1, ScalarType.Float32, timesteps.device) * (-Math.Log(10000) / half)).exp();
        var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        return cat([args.cos(), args.sin()], 1).MoveToOuterDisposeScope();
    }
}

public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    public readonly Linear linear_1, linear_2;
    public TimestepEmbedding(long in_dim, long time_embed_dim) : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(in_dim, time_embed_dim);
        linear_2 = nn.Linear(time_embed_dim, time_embed_dim);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        using var h = linear_1.forward(x);
        using var a = h.silu();
        return linear_2.forward(a);
    }
}

/// <summary>GN → SiLU → conv → + time → GN → SiLU → conv, plus a (1×1 conv) shortcut: ResNet block of SD.</summary>
public sealed class ResnetBlock2D : nn.Module
{
    public readonly GroupNorm norm1;
    public readonly Conv2d conv1;
    public readonly Linear? time_emb_proj;
    public readonly GroupNorm norm2;
    public readonly Conv2d conv2;
    public readonly Conv2d? conv_shortcut;

    public ResnetBlock2D(long in_channels, long out_channels, long temb_channels, long groups, double eps) : base(nameof(ResnetBlock2D))
    {
        norm1 = Layers.GroupNorm(groups, in_channels, eps);
        conv1 = nn.Conv2d(in_channels, out_channels, 3, padding: 1);
        time_emb_proj = temb_channels > 0 ? nn.Linear(temb_channels, out_channels) : null;
        norm2 = Layers.GroupNorm(groups, out_channels, eps);
        conv2 = nn.Conv2d(out_channels, out_channels, 3, padding: 1);
        conv_shortcut = in_channels != out_channels ? nn.Conv2d(in_channels, out_channels, 1) : null;
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor? temb)   // (B, in, H, W), (B, temb) → (B, out, H, W)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(norm1.forward(x).silu());
        if (time_emb_proj is not null && temb is not null)
            h = h + time_emb_proj.forward(temb.silu()).unsqueeze(-1).unsqueeze(-1);
        h = conv2.forward(norm2.forward(h).silu());
        var skip = conv_shortcut is null ? x : conv_shortcut.forward(x);
        return (skip + h).MoveToOuterDisposeScope();
    }
}

/// <summary>GEGLU feed-forward (Shazeer 2020): ff.net.0.proj → h·GELU(gate) → ff.net.2, inner width 4·dim.</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<nn.Module> net;           // [GEGLU (proj), Dropout, Linear], diffusers' ff.net.{0,2}
    // TorchSharp registers every Module-typed field under its name, so the aliases are properties.
    public Linear proj => ((Geglu)net[0]).proj;
    public Linear out_linear => (Linear)net[2];

    public FeedForward(long dim) : base(nameof(FeedForward))
    {
        var inner = 4 * dim;
        net = nn.ModuleList<nn.Module>(new Geglu(nn.Linear(dim, inner * 2)), nn.Dropout(0), nn.Linear(inner, dim));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = proj.forward(x).chunk(2, -1);                 // hidden, gate
        return out_linear.forward(parts[0] * parts[1].gelu()).MoveToOuterDisposeScope();
    }

    sealed class Geglu : nn.Module
    {
        public readonly Linear proj;
        public Geglu(Linear proj) : base("GEGLU") { this.proj = proj; RegisterComponents(); }
    }
}

/// <summary>x + attn1(LN x); x + attn2(LN x, context); x + ff(LN x).</summary>
public sealed class BasicTransformerBlock : nn.Module
{
    public readonly LayerNorm norm1;
    public readonly Attention attn1;
    public readonly LayerNorm norm2;
    public readonly Attention attn2;
    public readonly LayerNorm norm3;
    public readonly FeedForward ff;

    public BasicTransformerBlock(long dim, long heads, long context_dim) : base(nameof(BasicTransformerBlock))
    {
        norm1 = nn.LayerNorm(dim);
        attn1 = new Attention(dim, null, heads, dim / heads);
        norm2 = nn.LayerNorm(dim);
        attn2 = new Attention(dim, context_dim, heads, dim / heads);
        norm3 = nn.LayerNorm(dim);
        ff = new FeedForward(dim);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor context)   // (B, HW, dim), (B, S, ctx)
    {
        using var scope = NewDisposeScope();
        x = x + attn1.forward(norm1.forward(x));
        x = x + attn2.forward(norm2.forward(x), context);
        x = x + ff.forward(norm3.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>GN → 1×1 proj_in → tokens → transformer block → 1×1 proj_out → + residual (diffusers' Transformer2DModel).</summary>
public sealed class Transformer2DModel : nn.Module
{
    public readonly GroupNorm norm;
    public readonly Conv2d proj_in;
    public readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    public readonly Conv2d proj_out;

    public Transformer2DModel(long channels, long heads, long context_dim, long groups) : base(nameof(Transformer2DModel))
    {
        norm = Layers.GroupNorm(groups, channels, 1e-6);
        proj_in = nn.Conv2d(channels, channels, 1);
        transformer_blocks = nn.ModuleList(new BasicTransformerBlock(channels, heads, context_dim));
        proj_out = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor context)   // (B, C, H, W) → (B, C, H, W)
    {
        using var scope = NewDisposeScope();
        long B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
        var h = proj_in.forward(norm.forward(x));
        h = h.permute(0, 2, 3, 1).reshape(B, H * W, C);                         // (B, HW, C)
        foreach (var block in transformer_blocks) h = block.forward(h, context);
        h = h.reshape(B, H, W, C).permute(0, 3, 1, 2);                           // (B, C, H, W)
        return (proj_out.forward(h) + x).MoveToOuterDisposeScope();
    }
}

public sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv;
    public Downsample2D(long channels) : base(nameof(Downsample2D)) { conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1); RegisterComponents(); }
    public override Tensor forward(Tensor x) => conv.forward(x);
}

public sealed class Upsample2D : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv;
    public Upsample2D(long channels) : base(nameof(Upsample2D)) { conv = nn.Conv2d(channels, channels, 3, padding: 1); RegisterComponents(); }
    public override Tensor forward(Tensor x)
    {
        using var up = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return conv.forward(up);
    }
}

/// <summary>CrossAttnDownBlock2D (with attentions) or DownBlock2D (without): resnets[i] (+ attentions[i]), then an
/// optional stride-2 downsampler. Returns the output and every intermediate state for the skip connections.</summary>
public sealed class UNetDownBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Transformer2DModel>? attentions;
    public readonly ModuleList<Downsample2D>? downsamplers;

    public UNetDownBlock(long in_ch, long out_ch, long temb, int layers, bool attention, bool downsample, UNetConfig c) : base(nameof(UNetDownBlock))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? in_ch : out_ch, out_ch, temb, c.norm_num_groups, c.norm_eps)).ToArray());
        if (attention)
            attentions = nn.ModuleList(Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(out_ch, c.attention_heads, c.cross_attention_dim, c.norm_num_groups)).ToArray());
        if (downsample) downsamplers = nn.ModuleList(new Downsample2D(out_ch));
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips)
    {
        for (var i = 0; i < resnets.Count; i++)
        {
            x = resnets[i].forward(x, temb);
            if (attentions is not null) x = attentions[i].forward(x, context);
            skips.Add(x);
        }
        if (downsamplers is not null) { x = downsamplers[0].forward(x); skips.Add(x); }
        return x;
    }
}

/// <summary>CrossAttnUpBlock2D / UpBlock2D: each resnet takes the concatenation with one skip, then an optional
/// nearest-neighbour ×2 upsampler with a 3×3 conv.</summary>
public sealed class UNetUpBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Transformer2DModel>? attentions;
    public readonly ModuleList<Upsample2D>? upsamplers;

    public UNetUpBlock(long in_ch, long prev_out_ch, long out_ch, long temb, int layers, bool attention, bool upsample, UNetConfig c) : base(nameof(UNetUpBlock))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, layers).Select(j =>
        {
            var skipCh = j == layers - 1 ? in_ch : out_ch;
            var resIn = j == 0 ? prev_out_ch : out_ch;
            return new ResnetBlock2D(resIn + skipCh, out_ch, temb, c.norm_num_groups, c.norm_eps);
        }).ToArray());
        if (attention)
            attentions = nn.ModuleList(Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(out_ch, c.attention_heads, c.cross_attention_dim, c.norm_num_groups)).ToArray());
        if (upsample) upsamplers = nn.ModuleList(new Upsample2D(out_ch));
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips)
    {
        for (var i = 0; i < resnets.Count; i++)
        {
            var skip = skips[^1];
            skips.RemoveAt(skips.Count - 1);
            x = resnets[i].forward(cat([x, skip], 1), temb);
            if (attentions is not null) x = attentions[i].forward(x, context);
        }
        if (upsamplers is not null) x = upsamplers[0].forward(x);
        return x;
    }
}

/// <summary>resnet → transformer → resnet at the lowest resolution (UNetMidBlock2DCrossAttn).</summary>
public sealed class UNetMidBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Transformer2DModel>? attentions;
    public UNetMidBlock(long ch, long temb, bool attention, UNetConfig c) : base(nameof(UNetMidBlock))
    {
        resnets = nn.ModuleList(new ResnetBlock2D(ch, ch, temb, c.norm_num_groups, c.norm_eps),
            new ResnetBlock2D(ch, ch, temb, c.norm_num_groups, c.norm_eps));
        if (attention)
            attentions = nn.ModuleList(new Transformer2DModel(ch, c.attention_heads, c.cross_attention_dim, c.norm_num_groups));
        RegisterComponents();
    }
    public Tensor forward(Tensor x, Tensor temb, Tensor context)
    {
        x = resnets[0].forward(x, temb);
        if (attentions is not null) x = attentions[0].forward(x, context);
        return resnets[1].forward(x, temb);
    }
}

public sealed class UNet2DConditionModel : nn.Module
{
    public readonly UNetConfig config;
    public readonly Conv2d conv_in;
    public readonly TimestepEmbedding time_embedding;
    public readonly ModuleList<UNetDownBlock> down_blocks;
    public readonly UNetMidBlock mid_block;
    public readonly ModuleList<UNetUpBlock> up_blocks;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    public UNet2DConditionModel(UNetConfig config) : base(nameof(UNet2DConditionModel))
    {
        config.Validate();
        this.config = config;
        var ch = config.block_out_channels;
        long temb = ch[0] * 4;
        conv_in = nn.Conv2d(config.in_channels, ch[0], 3, padding: 1);
        time_embedding = new TimestepEmbedding(ch[0], temb);

        var downs = new List<UNetDownBlock>();
        for (var i = 0; i < ch.Length; i++)
            downs.Add(new UNetDownBlock(i == 0 ? ch[0] : ch[i - 1], ch[i], temb, config.layers_per_block,
                config.down_block_types[i] == DownBlockType.CrossAttnDownBlock2D, downsample: i < ch.Length - 1, config));
        down_blocks = nn.ModuleList(downs.ToArray());

        mid_block = new UNetMidBlock(ch[^1], temb, config.mid_block_attention, config);

        var rev = ch.Reverse().ToArray();
        var ups = new List<UNetUpBlock>();
        for (var i = 0; i < rev.Length; i++)
            ups.Add(new UNetUpBlock(in_ch: rev[Math.Min(i + 1, rev.Length - 1)], prev_out_ch: i == 0 ? rev[0] : rev[i - 1], out_ch: rev[i], temb,
                config.layers_per_block + 1, config.up_block_types[i] == UpBlockType.CrossAttnUpBlock2D, upsample: i < rev.Length - 1, config));
        up_blocks = nn.ModuleList(ups.ToArray());

        conv_norm_out = Layers.GroupNorm(config.norm_num_groups, ch[0], config.norm_eps);
        conv_out = nn.Conv2d(ch[0], config.out_channels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>The network output (ε̂ or v̂, per config.prediction_type).</summary>
    /// <param name="sample">(B, in_channels, H, W) noisy latents z_t</param>
    /// <param name="timestep">(B) DDPM timesteps in [0, 1000)</param>
    /// <param name="context">(B, S, cross_attention_dim) text-encoder states</param>
    public Tensor forward(Tensor sample, Tensor timestep, Tensor context)
    {
        using var scope = NewDisposeScope();
        // 1. time embedding                                                           // (B, 4·C0)
        var temb = time_embedding.forward(TimestepFeatures.Embed(timestep, config.block_out_channels[0]));
        // 2. down path, keeping every state for the skips
        var x = conv_in.forward(sample);
        var skips = new List<Tensor> { x };
        foreach (var block in down_blocks) x = block.forward(x, temb, context, skips);
        // 3. middle, at the lowest resolution
        x = mid_block.forward(x, temb, context);
        // 4. up path, consuming the skips in reverse
        foreach (var block in up_blocks) x = block.forward(x, temb, context, skips);
        // 5. output                                                                    // (B, out_channels, H, W)
        return conv_out.forward(conv_norm_out.forward(x).silu()).MoveToOuterDisposeScope();
    }

    /// <summary>A deep copy with its own parameters (θ and θ′ of erasure are two of these).</summary>
    public UNet2DConditionModel Clone() => this.Clone(() => new UNet2DConditionModel(config));
}
