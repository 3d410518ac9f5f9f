// Only the chosen parameter group of θ′ changes (bitwise), θ and the foundation model do not.
using ConceptErasure.Erasure;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class ParameterGroupTests
{
    [Fact]
    public void GroupsSelectTheRolesOfEsd()
    {
        using var model = Create();
        var all = model.Unet.named_parameters().Select(p => p.name).ToList();
        var x = ParameterGroups.Select(model.Unet, "xattn").Select(p => p.name).ToList();
        var u = ParameterGroups.Select(model.Unet, "noxattn").Select(p => p.name).ToList();
        Assert.NotEmpty(x);
        Assert.All(x, n => Assert.Contains(".attn2.", n));
        Assert.Equal(all.Count(n => n.Contains(".attn2.")), x.Count);
        Assert.DoesNotContain(u, n => n.Contains(".attn2.") || n.StartsWith("time_embedding.") || n.StartsWith("conv_out.") || n.StartsWith("conv_norm_out."));
        Assert.Contains("conv_in.weight", u);
        Assert.Contains(u, n => n.EndsWith("time_emb_proj.weight"));        // the resnets' time projections train, as in ESD-u
        Assert.Contains(u, n => n.Contains(".attn1."));
        Assert.Equal(all.Count, ParameterGroups.Select(model.Unet, "full").Count);
        Assert.Equal(all.Count - 8, x.Count + u.Count);                      // neither: time_embedding (4), conv_norm_out (2), conv_out (2)
    }

    [Theory]
    [InlineData("xattn", "esd")]
    [InlineData("noxattn", "esd")]
    [InlineData("full", "esd")]
    [InlineData("xattn", "adversarial_preservation")]
    [InlineData("noxattn", "fixed_preservation")]
    public void OnlyTheChosenGroupChanges(string group, string method)
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var original = Snapshot(model.Unet);
        var c = Config(method, "cat") with { parameters = group, preserve = ["dog"], ddim_steps = 5 };
        using var m = Eraser.Create(model, c.Validate(model));
        for (var step = 1; step <= 3; step++)
            using (NewDisposeScope()) Assert.All(m.Step(step), r => Assert.True(r.Applied));

        var trained = Snapshot(m.Trainable);
        var changed = trained.Where(kv => !kv.Value.SequenceEqual(original[kv.Key])).Select(kv => kv.Key).ToHashSet();
        var members = ParameterGroups.Select(m.Trainable, group).Select(p => p.name).ToHashSet();
        Assert.NotEmpty(changed);
        Assert.Subset(members, changed);                   // nothing outside the group moved, bitwise
        Assert.True(changed.Count >= members.Count * 0.9, $"only {changed.Count} of {members.Count} group tensors changed");
        Assert.Equal(original, Snapshot(m.Frozen));         // θ is untouched
        Assert.Equal(original, Snapshot(model.Unet));       // and so is the foundation model
    }
}
