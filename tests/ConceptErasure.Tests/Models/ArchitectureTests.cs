// Architecture: the UNet code builds Stable Diffusion v1's exact UNet; names are diffusers' checkpoint keys;
// the miniature models produce the documented shapes.
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Models;

/// <summary>Tests that change TorchSharp's process-wide default device run alone, after every parallel test.</summary>
[CollectionDefinition(nameof(DefaultDeviceCollection), DisableParallelization = true)]
public sealed class DefaultDeviceCollection;

[Collection(nameof(DefaultDeviceCollection))]
public class ReferenceArchitectureTests
{
    /// <summary>Builds a module with the meta device as TorchSharp's default (no storage, no initialisation work).</summary>
    static T OnMeta<T>(Func<T> create)
    {
        torch.set_default_device(torch.META);
        try { return create(); }
        finally { torch.set_default_device(torch.CPU); }
    }

    [Fact]
    public void StableDiffusionV1UNetHasTheReferenceParameterCount()
    {
        // Built on the meta device: shapes without storage, so 860 M parameters cost no memory and no initialisation.
        using var unet = OnMeta(() => new UNet2DConditionModel(UNetConfig.StableDiffusionV1));
        Assert.Equal(859_520_964L, unet.ParameterCount());   // diffusers' UNet2DConditionModel for SD v1.4/1.5
        var names = unet.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", names);
        Assert.Contains("up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight", names);
        Assert.Contains("mid_block.attentions.0.proj_in.weight", names);
        Assert.Contains("up_blocks.0.upsamplers.0.conv.weight", names);
        Assert.Contains("time_embedding.linear_2.bias", names);
        Assert.Equal(686, names.Count);
    }

    [Fact]
    public void ClipViTL14TextTowerHasTheReferenceParameterCount()
    {
        using var text = OnMeta(() => new ClipTextModel(TextEncoderConfig.StableDiffusionV1));
        Assert.Equal(123_060_480L, text.ParameterCount());   // transformers' CLIPTextModel of openai/clip-vit-large-patch14
        Assert.Contains("text_model.encoder.layers.11.self_attn.q_proj.weight", text.named_parameters().Select(p => p.name));
    }

}

public class ArchitectureTests
{
    [Fact]
    public void MiniatureUNetMapsLatentsToLatents()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        using var unet = new UNet2DConditionModel(new UNetConfig());
        var z = torch.randn(2, 4, 8, 8);
        var t = torch.tensor(new long[] { 10, 900 });
        var c = torch.randn(2, 16, 128);
        var y = unet.forward(z, t, c);
        Assert.Equal(new long[] { 2, 4, 8, 8 }, y.shape);
        var xattn = unet.named_parameters().Where(p => p.name.Contains(".attn2.")).ToList();
        Assert.NotEmpty(xattn);
        Assert.All(xattn, p => Assert.Contains(".transformer_blocks.0.attn2.", p.name));
    }

    [Fact]
    public void AutoencoderRoundTripShapes()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        using var vae = new AutoencoderKL(new AutoencoderConfig());
        var x = torch.rand(3, 3, 32, 32) * 2.0 - 1.0;
        using var q = vae.encode(x);
        Assert.Equal(new long[] { 3, 4, 8, 8 }, q.mean.shape);
        Assert.Equal(new long[] { 3 }, q.kl().shape);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, vae.decode(q.sample()).shape);
    }

    [Fact]
    public void TextEncoderPoolsTheEndOfTextState()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        using var enc = new ClipTextModel(new TextEncoderConfig { vocab_size = 50 });
        var ids = torch.tensor(new long[] { 1, 5, 6, 2, 0, 0, 1, 7, 2, 0, 0, 0 }, [2, 6]);
        var eos = torch.tensor(new long[] { 3, 2 });
        using var e = enc.forward(ids, eos);
        Assert.Equal(new long[] { 2, 6, 128 }, e.last_hidden_state.shape);
        Assert.True(torch.allclose(e.pooled[0], e.last_hidden_state[0][3]));
        Assert.True(torch.allclose(e.pooled[1], e.last_hidden_state[1][2]));
        // causality: changing a later token does not change earlier states
        var ids2 = torch.tensor(new long[] { 1, 5, 6, 2, 9, 9, 1, 7, 2, 0, 0, 0 }, [2, 6]);
        using var e2 = enc.forward(ids2, eos);
        Assert.True(torch.allclose(e.last_hidden_state.slice(1, 0, 4, 1), e2.last_hidden_state.slice(1, 0, 4, 1), 1e-6, 1e-6));
    }
}
