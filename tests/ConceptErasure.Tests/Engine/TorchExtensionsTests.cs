// Tests of Engine/TorchExtensions.cs — what the workbook adds to TorchSharp — and of TorchSharp itself where the
// workbook relies on a behaviour: that it initialises here (Debian 12 needs the build's native fix), that errors
// which would abort the process inside libtorch surface as .NET exceptions through the guarded paths, and that
// seeded draws, the straight-through Gumbel-Softmax and module copies behave as the erasure code assumes.
using System.Runtime.InteropServices;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Engine;

public class TorchExtensionsTests
{
    [Fact]
    public void TorchSharpInitialisesAndComputesWithAutograd()
    {
        using var scope = NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2, 3 }).requires_grad_();
        var y = (x * x).sum();                                   // y = Σ x², dy/dx = 2x
        y.backward();
        Assert.Equal(14f, y.item<float>());
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>().ToArray());
        Assert.StartsWith("2.10", torch.__version__);
    }

    [Fact]
    public void MatmulShapeMismatchIsAnExceptionNotAnAbort()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Guarded.matmul(torch.ones(3, 4), torch.ones(5, 6)));
        Assert.Contains("[3, 4]", ex.Message);
        Assert.Throws<ArgumentException>(() => Guarded.matmul(torch.ones(2, 3, 4), torch.ones(5, 4, 2)));   // batch 2 vs 5
        Assert.Equal(new long[] { 2, 3, 2 }, Guarded.matmul(torch.ones(2, 3, 4), torch.ones(1, 4, 2)).shape);
        Assert.Equal(new long[] { 3 }, Guarded.matmul(torch.ones(3, 4), torch.ones(4)).shape);
        Assert.Equal(4.0, Guarded.matmul(torch.ones(4), torch.ones(4)).ToDouble());
    }

    [Fact]
    public void OtherLibtorchErrorsAreExternalExceptions()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ExternalException>(() => torch.ones(2, 3) + torch.ones(4, 5));
        Assert.Throws<ExternalException>(() => torch.ones(6).view(4));
    }

    [Fact]
    public void GradMatchesTheAnalyticGradientAndLeavesNoGradBehind()
    {
        using var scope = NewDisposeScope();
        var a = torch.tensor(new double[] { 0.5, -1.0, 2.0 }).requires_grad_();
        var b = torch.tensor(new double[] { 3.0 }).requires_grad_();
        var y = (a.sin() * b).sum();                             // ∂y/∂a = b cos a, ∂y/∂b = Σ sin a
        var g = Guarded.grad([y], [a, b]);
        var expectedA = new[] { 0.5, -1.0, 2.0 }.Select(v => 3.0 * Math.Cos(v)).ToArray();
        Assert.All(g[0]!.ToDoubles().Zip(expectedA), p => Assert.Equal(p.Second, p.First, 12));
        Assert.Equal(new[] { 0.5, -1.0, 2.0 }.Sum(Math.Sin), g[1]!.ToDouble(), 12);
        Assert.Null(a.grad);                                     // like autograd.grad: nothing accumulates in .grad
        Assert.Null(b.grad);
    }

    [Fact]
    public void GradKeepsAnExistingGradAndWorksForNonLeafInputs()
    {
        using var scope = NewDisposeScope();
        var x = torch.tensor(new double[] { 1, 2 }).requires_grad_();
        (x * 10).sum().backward();                                // x.grad = [10, 10]
        var h = x * x;                                            // non-leaf
        var g = Guarded.grad(h.sum() * 3, h);                     // ∂(3 Σ h)/∂h = 3
        Assert.Equal(new double[] { 3, 3 }, g.ToDoubles());
        Assert.Equal(new double[] { 10, 10 }, x.grad!.ToDoubles());
    }

    [Fact]
    public void GradCreateGraphRetainsItAndGivesSecondDerivatives()
    {
        using var scope = NewDisposeScope();
        var x = torch.tensor(new double[] { 2.0 }).requires_grad_();
        var y = x.pow(3);                                         // y' = 3x², y'' = 6x
        var dy = Guarded.grad([y], [x], create_graph: true)[0]!;
        Assert.Equal(12.0, dy.ToDouble(), 12);
        var d2 = Guarded.grad(dy, x);
        Assert.Equal(12.0, d2.ToDouble(), 12);
        Assert.Equal(12.0, Guarded.grad([y], [x])[0]!.ToDouble(), 12);   // the graph of y was retained
    }

    [Fact]
    public void BadGradCallsAreExceptionsNotAborts()
    {
        using var scope = NewDisposeScope();
        var x = torch.ones(3).requires_grad_();
        var unused = torch.ones(3).requires_grad_();
        var y = (x * x).sum();                                   // saves x for its backward
        Assert.Contains("not used", Assert.Throws<ArgumentException>(() => Guarded.grad([y], [x, unused], retain_graph: true)).Message);
        Assert.Null(Guarded.grad([y], [x, unused], retain_graph: true, allow_unused: true)[1]);
        Assert.Contains("does not require grad", Assert.Throws<ArgumentException>(() => Guarded.grad(torch.ones(1).sum(), x)).Message);
        Assert.Contains("grad_outputs", Assert.Throws<ArgumentException>(() => Guarded.grad([x * 2], [x])).Message);
        Guarded.grad(y, x);                                       // frees the graph
        Assert.ThrowsAny<ExternalException>(() => Guarded.grad(y, x));   // a second pass through a freed graph
    }

    [Fact]
    public void SeededDrawsAreCpuDrawsAndTheStateRestores()
    {
        using var scope = NewDisposeScope();
        using var g1 = Rng.Create(42);
        using var g2 = new Generator(42, CPU);
        Assert.Equal(torch.randn([3, 4], generator: g2).data<float>().ToArray(), Rng.randn([3, 4], g1).data<float>().ToArray());
        var state = Rng.GetState(g1);
        var a = Rng.rand([5], g1).data<float>().ToArray();
        Rng.SetState(g1, state);
        Assert.Equal(a, Rng.rand([5], g1).data<float>().ToArray());
        Assert.Throws<InvalidDataException>(() => Rng.SetState(g1, new byte[10]));
        Assert.Throws<ArgumentException>(() => Rng.randint(3, 3, [1], g1));
        var ints = Rng.randint(2, 5, [1000], g1).data<long>().ToArray();
        Assert.True(ints.Min() == 2 && ints.Max() == 4);
    }

    [Fact]
    public void HardGumbelSoftmaxIsOneHotWithTheSoftGradient()
    {
        using var scope = NewDisposeScope();
        var logits = torch.tensor(new double[] { 0.3, -0.2, 0.9, 0.1 }).requires_grad_();
        var weights = torch.tensor(new double[] { 1, 2, 3, 4 });
        using var g1 = Rng.Create(5);
        using var g2 = Rng.Create(5);
        var hard = Functional.gumbel_softmax(logits, tau: 0.7, hard: true, generator: g1);
        var soft = Functional.gumbel_softmax(logits, tau: 0.7, hard: false, generator: g2);   // same noise
        var h = hard.ToDoubles();
        Assert.Equal(1.0, h.Sum(), 12);
        Assert.Equal(3, h.Count(v => v == 0));
        Assert.Equal(Array.IndexOf(soft.ToDoubles(), soft.ToDoubles().Max()), Array.IndexOf(h, 1.0));
        var gh = Guarded.grad((hard * weights).sum(), logits).ToDoubles();
        var gs = Guarded.grad((soft * weights).sum(), logits).ToDoubles();
        Assert.All(gh.Zip(gs), p => Assert.Equal(p.Second, p.First, 12));     // straight-through: d hard = d soft
    }

    [Fact]
    public void CloneIsDeepIndependentAndKeepsFlagsAndMode()
    {
        using var scope = NewDisposeScope();
        var source = new ConceptErasure.Models.UNet2DConditionModel(new ConceptErasure.Models.UNetConfig { block_out_channels = [32, 32], sample_size = 4, cross_attention_dim = 16, attention_heads = 2 });
        source.Freeze();
        source.conv_in.weight.requires_grad = true;
        source.eval();
        var copy = source.Clone();
        Assert.False(copy.training);
        Assert.True(copy.conv_in.weight.requires_grad);
        Assert.False(copy.conv_out.weight.requires_grad);
        foreach (var ((n, a), (m, b)) in source.named_parameters().Zip(copy.named_parameters()))
        {
            Assert.Equal(n, m);
            Assert.True(a.eq(b).all().item<bool>(), n);
        }
        using (no_grad()) copy.conv_out.bias!.add_(1);
        Assert.False(copy.conv_out.bias!.eq(source.conv_out.bias!).all().item<bool>());
        source.Dispose(); copy.Dispose();
    }

    [Fact]
    public void GroupNormStartsAtIdentity()
    {
        using var scope = NewDisposeScope();
        var norm = Layers.GroupNorm(2, 4);
        Assert.Equal(new float[] { 1, 1, 1, 1 }, norm.weight.data<float>().ToArray());
        Assert.Equal(new float[] { 0, 0, 0, 0 }, norm.bias!.data<float>().ToArray());
    }

    [Fact]
    public void DisposeScopesFreeWhatTheyCreated()
    {
        var before = Modules.LiveTensors;
        using (NewDisposeScope())
        {
            var a = torch.ones(10);
            for (var i = 0; i < 50; i++) a = a + 1;
            Assert.True(Modules.LiveTensors >= before + 50);
        }
        Assert.Equal(before, Modules.LiveTensors);
    }
}
