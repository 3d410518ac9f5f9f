// Architecture: the UNet code builds Stable Diffusion v1's exact UNet; names are diffusers' checkpoint keys;
// the miniature models produce the documented shapes.
using ConceptErasure.Models;
using ConceptErasure.Torch;
using ConceptErasure.Torch.nn;

namespace ConceptErasure.Tests.Models;

public class ArchitectureTests
{
    [Fact]
    public void StableDiffusionV1UNetHasTheReferenceParameterCount()
    {
        // Parameters are allocated without initialisation (pages are never touched), so this costs little memory.
        using var _ = init.no_init();
        using var unet = new UNet2DConditionModel(UNetConfig.StableDiffusionV1);
        Assert.Equal(859_520_964L, unet.parameter_count());   // diffusers' UNet2DConditionModel for SD v1.4/1.5
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
        using var _ = init.no_init();
        using var text = new ClipTextModel(TextEncoderConfig.StableDiffusionV1);
        Assert.Equal(123_060_480L, text.parameter_count());   // transformers' CLIPTextModel of openai/clip-vit-large-patch14
        Assert.Contains("text_model.encoder.layers.11.self_attn.q_proj.weight", text.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void MiniatureUNetMapsLatentsToLatents()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        using var unet = new UNet2DConditionModel(new UNetConfig());
        var z = torch.randn(2, 4, 8, 8);
        var t = torch.tensor(new long[] { 10, 900 });
        var c = torch.randn(2, 16, 128);
        var y = unet.forward(z, t, c);
        Assert.Equal(new long[] { 2, 4, 8, 8 }, y.shape);
        var xattn = unet.parameters_matching(@"\.attn2\.");
        Assert.NotEmpty(xattn);
        Assert.All(xattn, p => Assert.Contains(".transformer_blocks.0.attn2.", p.name));
    }

    [Fact]
    public void AutoencoderRoundTripShapes()
    {
        using var scope = torch.NewDisposeScope();
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
        using var scope = torch.NewDisposeScope();
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
        Assert.True(torch.allclose(e.last_hidden_state.slice(1, 0, 4), e2.last_hidden_state.slice(1, 0, 4), 1e-6, 1e-6));
    }
}
