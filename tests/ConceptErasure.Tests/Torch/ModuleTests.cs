// Modules: hierarchical names, state_dict round trips, clones, name filters, freezing, device/dtype moves.
using ConceptErasure.Torch;
using ConceptErasure.Torch.nn;

namespace ConceptErasure.Tests.Torch;

[Collection("global torch state")]
public class ModuleTests
{
    sealed class Block : Module<Tensor, Tensor>
    {
        public readonly Linear proj;
        public readonly Attention attn1, attn2;
        public readonly LayerNorm norm;
        public Block()
        {
            proj = register_module("proj", new Linear(4, 4));
            attn1 = register_module("attn1", new Attention(4, heads: 2, dim_head: 2));
            attn2 = register_module("attn2", new Attention(4, context_dim: 3, heads: 2, dim_head: 2));
            norm = register_module("norm", new LayerNorm(4));
            register_buffer("scale", torch.full([1], 2.0));
        }
        public override Tensor forward(Tensor x) => norm.forward(proj.forward(x));
        protected override Module CloneModule() => new Block();
    }

    sealed class Net : Module
    {
        public readonly ModuleList<Block> blocks;
        public Net() => blocks = register_module("transformer_blocks", new ModuleList<Block>([new Block(), new Block()]));
        protected override Module CloneModule() => new Net();
    }

    [Fact]
    public void DottedNamesFollowRegistration()
    {
        using var net = new Net();
        var names = net.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("transformer_blocks.0.attn2.to_k.weight", names);
        Assert.Contains("transformer_blocks.1.attn1.to_out.0.bias", names);
        Assert.Contains("transformer_blocks.1.norm.weight", names);
        Assert.DoesNotContain(names, n => n.Contains("to_q.bias"));   // q/k/v have no bias, as in Stable Diffusion
        Assert.Equal(["transformer_blocks.0.scale", "transformer_blocks.1.scale"], net.named_buffers().Select(b => b.name));
        // attn2 filter = ESD-x's parameter group
        var xattn = net.parameters_matching(@"\.attn2\.");
        Assert.Equal(2 * 5, xattn.Count);   // to_q, to_k, to_v, to_out.0.weight, to_out.0.bias per block
        Assert.All(xattn, p => Assert.Contains(".attn2.", p.name));
        Assert.Equal(net.named_parameters().Sum(p => p.parameter.numel()), net.parameter_count());
    }

    [Fact]
    public void CloneIsDeepAndIndependent()
    {
        torch.manual_seed(1);
        using var net = new Net();
        using var copy = net.Clone<Net>();
        var a = net.state_dict();
        var b = copy.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var k in a.Keys) Assert.True(torch.allclose(a[k], b[k], 0, 0), k);
        using (torch.no_grad()) copy.blocks[0].proj.weight.add_(1.0);
        Assert.False(torch.allclose(net.blocks[0].proj.weight, copy.blocks[0].proj.weight));
    }

    [Fact]
    public void CloneDoesNotConsumeRandomNumbers()
    {
        torch.manual_seed(5);
        using var net = new Net();
        var state = torch.get_rng_state();
        using var copy = net.Clone<Net>();
        Assert.Equal(state, torch.get_rng_state());
    }

    [Fact]
    public void StateDictRoundTripAndStrictErrors()
    {
        torch.manual_seed(2);
        using var a = new Net();
        torch.manual_seed(3);
        using var b = new Net();
        Assert.False(torch.allclose(a.blocks[1].attn2.to_v.weight, b.blocks[1].attn2.to_v.weight));
        b.load_state_dict(a.state_dict());
        Assert.True(torch.allclose(a.blocks[1].attn2.to_v.weight, b.blocks[1].attn2.to_v.weight, 0, 0));

        using var scope = torch.NewDisposeScope();
        var bad = a.state_dict();
        bad["transformer_blocks.0.proj.weight"] = torch.zeros(3, 3);
        Assert.Contains("shape", Assert.Throws<ArgumentException>(() => b.load_state_dict(bad)).Message);
        var extra = a.state_dict();
        extra["nope.weight"] = torch.zeros(1);
        Assert.Contains("unexpected keys nope.weight", Assert.Throws<ArgumentException>(() => b.load_state_dict(extra)).Message);
        var partial = a.state_dict();
        partial.Remove("transformer_blocks.0.norm.bias");
        Assert.Contains("missing", Assert.Throws<ArgumentException>(() => b.load_state_dict(partial)).Message);
        Assert.Equal(["transformer_blocks.0.norm.bias"], b.load_state_dict(partial, strict: false));
    }

    [Fact]
    public void ToDTypeKeepsParameterIdentity()
    {
        using var net = new Net();
        var p = net.blocks[0].proj.weight;
        net.to(ScalarType.Float64);
        Assert.Same(p, net.named_parameters().First(x => x.name == "transformer_blocks.0.proj.weight").parameter);
        Assert.Equal(ScalarType.Float64, p.dtype);
        Assert.True(p.requires_grad);
        Assert.True(p.is_leaf);
    }

    [Fact]
    public void FreezingExcludesParametersFromGradients()
    {
        using var scope = torch.NewDisposeScope();
        using var block = new Block();
        block.requires_grad_(false);
        foreach (var (_, p) in block.parameters_matching(@"^proj\.")) p.requires_grad = true;
        block.forward(torch.randn(2, 3, 4)).sum().backward();
        Assert.NotNull(block.proj.weight.grad);
        Assert.Null(block.norm.weight.grad);
    }

    [Fact]
    public void TrainEvalPropagates()
    {
        using var net = new Net();
        net.eval();
        Assert.All(net.named_modules(), m => Assert.False(m.module.training));
        net.train();
        Assert.All(net.named_modules(), m => Assert.True(m.module.training));
    }

    [Fact]
    public void DuplicateMemberNamesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new Dup());
    }
    sealed class Dup : Module
    {
        public Dup() { register_module("a", new Linear(1, 1)); register_module("a", new Linear(1, 1)); }
        protected override Module CloneModule() => new Dup();
    }
}

public class SerializationTests
{
    [Fact]
    public void ModuleSurvivesSafetensorsRoundTripAndCorruptionIsNamed()
    {
        var dir = Directory.CreateTempSubdirectory("ce-ser");
        try
        {
            var path = Path.Combine(dir.FullName, "m.safetensors");
            using var a = new Sequential(new Linear(3, 4), new LayerNorm(4));
            using var b = new Sequential(new Linear(3, 4), new LayerNorm(4));
            using (torch.no_grad()) ((Linear)b[0]).weight.add_(1.0);
            Serialization.SaveModule(a, path, new Dictionary<string, string> { ["kind"] = "test" });
            var meta = Serialization.LoadModule(b, path);
            Assert.Equal("test", meta["kind"]);
            foreach (var (k, v) in a.state_dict()) Assert.True(torch.allclose(v, b.state_dict()[k], 0, 0), k);

            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 5)]);
            var ex = Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path));
            Assert.Contains(path, ex.Message);

            using var c = new Sequential(new Linear(3, 5));
            Serialization.SaveModule(c, path);
            Assert.Contains("shape", Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(new Sequential(new Linear(3, 4)), path)).Message);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData(ScalarType.Float32)] [InlineData(ScalarType.Float16)] [InlineData(ScalarType.BFloat16)] [InlineData(ScalarType.Int64)]
    public void TensorsRoundTripEachDType(ScalarType dtype)
    {
        var dir = Directory.CreateTempSubdirectory("ce-ser");
        try
        {
            var path = Path.Combine(dir.FullName, "t.safetensors");
            using var scope = torch.NewDisposeScope();
            var t = (torch.arange(0, 6, 1, ScalarType.Float64).reshape(2, 3) * 1.5).to(dtype);
            Serialization.Save(new Dictionary<string, Tensor> { ["x"] = t, ["scalar"] = torch.scalar_tensor(3, dtype) }, path);
            var back = Serialization.Load(path);
            Assert.Equal(dtype, back["x"].dtype);
            Assert.Equal(new long[] { 2, 3 }, back["x"].shape);
            Assert.Empty(back["scalar"].shape);
            Assert.True(back["x"].eq(t).all().item() == 1);
            foreach (var v in back.Values) v.Dispose();
        }
        finally { dir.Delete(true); }
    }
}
