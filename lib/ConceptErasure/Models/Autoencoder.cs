// Autoencoder.cs — the latent autoencoder of latent diffusion (Rombach et al. 2022, "AutoencoderKL"), in
// miniature: 32×32 RGB ↔ 4×8×8 latents. The encoder outputs a diagonal Gaussian (mean, log-variance) whose
// KL to N(0, I) is lightly penalised; diffusion runs on z·scaling_factor so that latents have unit variance,
// as Stable Diffusion does with its 0.18215. Names follow diffusers (encoder.down_blocks.0.resnets.0.conv1, …).
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

public sealed record AutoencoderConfig
{
    public int in_channels { get; init; } = 3;
    public int latent_channels { get; init; } = 4;
    public int[] block_out_channels { get; init; } = [32, 64, 128];   // 32 → 16 → 8 pixels
    public int layers_per_block { get; init; } = 1;
    public int norm_num_groups { get; init; } = 32;
    public int sample_size { get; init; } = 32;
    /// <summary>Multiplies latents before diffusion: 1/std of the training latents, measured after training.</summary>
    public double scaling_factor { get; init; } = 1.0;
}

/// <summary>Single-head self-attention over pixels with a group norm and a residual (the VAE's mid-block attention).</summary>
public sealed class VaeAttention : nn.Module
{
    public readonly GroupNorm group_norm;
    public readonly Linear to_q, to_k, to_v;
    public readonly ModuleList<nn.Module> to_out;   // [Linear, Dropout] as in diffusers
    public VaeAttention(long channels, long groups) : base(nameof(VaeAttention))
    {
        group_norm = Layers.GroupNorm(groups, channels, 1e-6);
        to_q = nn.Linear(channels, channels);
        to_k = nn.Linear(channels, channels);
        to_v = nn.Linear(channels, channels);
        to_out = nn.ModuleList<nn.Module>(nn.Linear(channels, channels), nn.Dropout(0));
        RegisterComponents();
    }
    public Tensor forward(Tensor x)   // (B, C, H, W)
    {
        using var scope = NewDisposeScope();
        long B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
        var h = group_norm.forward(x).reshape(B, C, H * W).transpose(1, 2);        // (B, HW, C)
        var o = nn.functional.scaled_dot_product_attention(to_q.forward(h), to_k.forward(h), to_v.forward(h));
        o = ((Linear)to_out[0]).forward(o).transpose(1, 2).reshape(B, C, H, W);
        return (x + o).MoveToOuterDisposeScope();
    }
}

public sealed class VaeMidBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<VaeAttention> attentions;
    public VaeMidBlock(long ch, long groups) : base(nameof(VaeMidBlock))
    {
        resnets = nn.ModuleList(new ResnetBlock2D(ch, ch, 0, groups, 1e-6), new ResnetBlock2D(ch, ch, 0, groups, 1e-6));
        attentions = nn.ModuleList(new VaeAttention(ch, groups));
        RegisterComponents();
    }
    public Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return resnets[1].forward(attentions[0].forward(resnets[0].forward(x, null)), null).MoveToOuterDisposeScope();
    }
}

/// <summary>resnets (no time input) then an optional downsampler or upsampler.</summary>
public sealed class VaeBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Downsample2D>? downsamplers;
    public readonly ModuleList<Upsample2D>? upsamplers;
    public VaeBlock(long inCh, long outCh, int layers, long groups, bool down, bool up) : base(nameof(VaeBlock))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? inCh : outCh, outCh, 0, groups, 1e-6)).ToArray());
        if (down) downsamplers = nn.ModuleList(new Downsample2D(outCh));
        if (up) upsamplers = nn.ModuleList(new Upsample2D(outCh));
        RegisterComponents();
    }
    public Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var r in resnets) x = r.forward(x, null);
        if (downsamplers is not null) x = downsamplers[0].forward(x);
        if (upsamplers is not null) x = upsamplers[0].forward(x);
        return x.MoveToOuterDisposeScope();
    }
}

public sealed class VaeEncoder : nn.Module
{
    public readonly Conv2d conv_in;
    public readonly ModuleList<VaeBlock> down_blocks;
    public readonly VaeMidBlock mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;
    public VaeEncoder(AutoencoderConfig c) : base(nameof(VaeEncoder))
    {
        var ch = c.block_out_channels;
        conv_in = nn.Conv2d(c.in_channels, ch[0], 3, padding: 1);
        down_blocks = nn.ModuleList(Enumerable.Range(0, ch.Length)
            .Select(i => new VaeBlock(i == 0 ? ch[0] : ch[i - 1], ch[i], c.layers_per_block, c.norm_num_groups, down: i < ch.Length - 1, up: false)).ToArray());
        mid_block = new VaeMidBlock(ch[^1], c.norm_num_groups);
        conv_norm_out = Layers.GroupNorm(c.norm_num_groups, ch[^1], 1e-6);
        conv_out = nn.Conv2d(ch[^1], 2 * c.latent_channels, 3, padding: 1);
        RegisterComponents();
    }
    public Tensor forward(Tensor x)   // (B, 3, 32, 32) → (B, 2L, 8, 8) = [mean, logvar]
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var b in down_blocks) h = b.forward(h);
        h = mid_block.forward(h);
        return conv_out.forward(conv_norm_out.forward(h).silu()).MoveToOuterDisposeScope();
    }
}

public sealed class VaeDecoder : nn.Module
{
    public readonly Conv2d conv_in;
    public readonly VaeMidBlock mid_block;
    public readonly ModuleList<VaeBlock> up_blocks;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;
    public VaeDecoder(AutoencoderConfig c) : base(nameof(VaeDecoder))
    {
        var rev = c.block_out_channels.Reverse().ToArray();
        conv_in = nn.Conv2d(c.latent_channels, rev[0], 3, padding: 1);
        mid_block = new VaeMidBlock(rev[0], c.norm_num_groups);
        up_blocks = nn.ModuleList(Enumerable.Range(0, rev.Length)
            .Select(i => new VaeBlock(i == 0 ? rev[0] : rev[i - 1], rev[i], c.layers_per_block + 1, c.norm_num_groups, down: false, up: i < rev.Length - 1)).ToArray());
        conv_norm_out = Layers.GroupNorm(c.norm_num_groups, rev[^1], 1e-6);
        conv_out = nn.Conv2d(rev[^1], c.in_channels, 3, padding: 1);
        RegisterComponents();
    }
    public Tensor forward(Tensor z)   // (B, L, 8, 8) → (B, 3, 32, 32)
    {
        using var scope = NewDisposeScope();
        var h = mid_block.forward(conv_in.forward(z));
        foreach (var b in up_blocks) h = b.forward(h);
        return conv_out.forward(conv_norm_out.forward(h).silu()).MoveToOuterDisposeScope();
    }
}

/// <summary>A diagonal Gaussian over latents: the encoder's posterior q(z|x).</summary>
public sealed class LatentDistribution(Tensor mean, Tensor logvar) : IDisposable
{
    public Tensor mean { get; } = mean;
    public Tensor logvar { get; } = logvar;
    public Tensor sample(Generator? g = null)
    {
        using var scope = NewDisposeScope();
        return (mean + (logvar * 0.5).exp() * Rng.randn(mean.shape, g, mean.device, mean.dtype)).MoveToOuterDisposeScope();
    }
    /// <summary>KL(q ‖ N(0, I)) per sample, summed over latent dims: ½Σ(μ² + σ² − 1 − log σ²).</summary>
    public Tensor kl()
    {
        using var scope = NewDisposeScope();
        return ((mean.square() + logvar.exp() - 1.0 - logvar) * 0.5).sum([1, 2, 3]).MoveToOuterDisposeScope();
    }
    public void Dispose() { mean.Dispose(); logvar.Dispose(); }
}

public sealed class AutoencoderKL : nn.Module
{
    public AutoencoderConfig config { get; private set; }
    public readonly VaeEncoder encoder;
    public readonly VaeDecoder decoder;
    public readonly Conv2d quant_conv, post_quant_conv;

    public AutoencoderKL(AutoencoderConfig config) : base(nameof(AutoencoderKL))
    {
        this.config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        quant_conv = nn.Conv2d(2 * config.latent_channels, 2 * config.latent_channels, 1);
        post_quant_conv = nn.Conv2d(config.latent_channels, config.latent_channels, 1);
        RegisterComponents();
    }

    /// <summary>Sets the measured latent scale (1/std of training latents).</summary>
    public void SetScalingFactor(double s) => config = config with { scaling_factor = s };

    public LatentDistribution encode(Tensor x)   // images in [−1, 1]
    {
        using var scope = NewDisposeScope();
        var moments = quant_conv.forward(encoder.forward(x)).chunk(2, 1);
        return new LatentDistribution(moments[0].MoveToOuterDisposeScope(), moments[1].clamp(-30, 20).MoveToOuterDisposeScope());
    }
    public Tensor decode(Tensor z)   // unscaled latents → images (≈ [−1, 1])
    {
        using var h = post_quant_conv.forward(z);
        return decoder.forward(h);
    }
}
