// Gradient checks (float64, finite differences) for every differentiable op family of the bridge.
using ConceptErasure.Torch;
using static ConceptErasure.Tests.Torch.GradCheck;

namespace ConceptErasure.Tests.Torch;

public class GradientTests
{
    [Theory]
    [InlineData("exp")] [InlineData("log")] [InlineData("sqrt")] [InlineData("rsqrt")] [InlineData("tanh")]
    [InlineData("sigmoid")] [InlineData("silu")] [InlineData("gelu")] [InlineData("sin")] [InlineData("cos")]
    [InlineData("atan")] [InlineData("square")] [InlineData("reciprocal")] [InlineData("log1p")] [InlineData("expm1")]
    [InlineData("softplus")] [InlineData("erf")] [InlineData("abs")] [InlineData("neg")]
    public void Unary(string op)
    {
        Func<Tensor, Tensor> f = op switch
        {
            "exp" => t => t.exp(), "log" => t => t.log(), "sqrt" => t => t.sqrt(), "rsqrt" => t => t.rsqrt(),
            "tanh" => t => t.tanh(), "sigmoid" => t => t.sigmoid(), "silu" => t => t.silu(), "gelu" => t => t.gelu(),
            "sin" => t => t.sin(), "cos" => t => t.cos(), "atan" => t => t.atan(), "square" => t => t.square(),
            "reciprocal" => t => t.reciprocal(), "log1p" => t => t.log1p(), "expm1" => t => t.expm1(),
            "softplus" => t => t.softplus(), "erf" => t => t.erf(), "abs" => t => t.abs(), "neg" => t => t.neg(),
            _ => throw new ArgumentException(op),
        };
        // positive inputs away from 0 keep log/sqrt/abs differentiable
        Check(x => f(x[0]), RandIn(1, 0.2, 2.0, 3, 4));
    }

    [Fact]
    public void BinaryBroadcast()
    {
        Check(x => x[0] + x[1] * 2.0, Rand(1, 2, 3), Rand(2, 3));
        Check(x => x[0] - x[1], Rand(3, 2, 3), Rand(4, 2, 1));
        Check(x => x[0] * x[1], Rand(5, 2, 3), Rand(6, 1, 3));
        Check(x => x[0] / x[1], Rand(7, 2, 3), RandIn(8, 0.5, 2, 2, 3));
        Check(x => x[0].pow(x[1]), RandIn(9, 0.5, 2, 4), Rand(10, 4));
        Check(x => x[0].pow(3.0) + 1.0 / x[0] - (2.0 - x[0]), RandIn(11, 0.5, 2, 5));
        Check(x => x[0].maximum(x[1]) + x[0].minimum(x[1]), Rand(12, 6), Rand(13, 6));
        Check(x => x[0].clamp(-0.5, 0.5), Rand(14, 8));
        Check(x => torch.where(x[0].gt(0), x[0] * 2.0, x[1]), Rand(15, 6), Rand(16, 6));
    }

    [Fact]
    public void Reductions()
    {
        Check(x => x[0].sum(), Rand(1, 3, 4));
        Check(x => x[0].sum(1, keepdim: true), Rand(2, 3, 4));
        Check(x => x[0].mean([0, 2]), Rand(3, 2, 3, 4));
        Check(x => x[0].var([1]), Rand(4, 3, 5));
        Check(x => x[0].var([1], unbiased: false), Rand(5, 3, 5));
        Check(x => x[0].std([0]), Rand(6, 4, 3));
        Check(x => x[0].logsumexp(1), Rand(7, 3, 4));
        Check(x => x[0].norm([1]), Rand(8, 3, 4));
        Check(x => x[0].amax([1]), Rand(9, 3, 4));
        Check(x => x[0].prod([1]), Rand(10, 3, 4));
        Check(x => x[0].cumsum(1), Rand(11, 2, 4));
        Check(x => x[0].max(1).values, Rand(12, 3, 4));
        Check(x => x[0].topk(2, 1).values, Rand(13, 3, 5));
        Check(x => x[0].sort(1).values, Rand(14, 3, 5));
    }

    [Fact]
    public void ShapeOps()
    {
        Check(x => x[0].reshape(6, 2).permute(1, 0), Rand(1, 3, 4));
        Check(x => x[0].transpose(0, 2).flatten(), Rand(2, 2, 3, 2));
        Check(x => torch.cat([x[0], x[1]], 1), Rand(3, 2, 2), Rand(4, 2, 3));
        Check(x => torch.stack([x[0], x[1]], 0), Rand(5, 2, 3), Rand(6, 2, 3));
        Check(x => x[0].slice(1, 1, 4, 2) * x[0].select(0, 1).unsqueeze(0).slice(1, 0, 2), Rand(7, 3, 5));
        using var idx = torch.tensor(new long[] { 2, 0, 2 });
        Check(x => x[0].index_select(0, idx), Rand(8, 3, 2));
        using var gi = torch.tensor(new long[] { 0, 1, 1, 0, 2, 2 }, [3, 2]);
        Check(x => x[0].gather(1, gi), Rand(9, 3, 3));
        Check(x => x[0].expand(3, 4) + x[0].repeat(3, 1), Rand(10, 1, 4));
        Check(x => x[0].chunk(2, 1)[1] * x[0].chunk(2, 1)[0], Rand(11, 2, 4));
        Check(x => x[0].flip(1).roll([1], [0]), Rand(12, 3, 2));
        Check(x => F.pad(x[0], [1, 2]), Rand(13, 2, 3));
        Check(x => x[0].tril() + x[0].triu(1) * 3.0, Rand(14, 3, 3));
        using var mask = torch.tensor(new[] { true, false, true, false, false, true }, [2, 3]);
        Check(x => x[0].masked_fill(mask, 0.5) + x[0].masked_select(mask).sum(), Rand(15, 2, 3));
    }

    [Fact]
    public void LinearAlgebra()
    {
        Check(x => x[0].matmul(x[1]), Rand(1, 3, 4), Rand(2, 4, 2));
        Check(x => x[0].bmm(x[1]), Rand(3, 2, 3, 4), Rand(4, 2, 4, 2));
        Check(x => F.linear(x[0], x[1], x[2]), Rand(5, 2, 3), Rand(6, 4, 3), Rand(7, 4));
        Check(x => F.cosine_similarity(x[0], x[1], 1), Rand(8, 3, 4), Rand(9, 3, 4));
    }

    [Fact]
    public void Convolutions()
    {
        Check(x => F.conv2d(x[0], x[1], x[2], stride: 1, padding: 1), Rand(1, 1, 2, 4, 4), Rand(2, 3, 2, 3, 3), Rand(3, 3));
        Check(x => F.conv2d(x[0], x[1], null, stride: 2, padding: 1), Rand(4, 1, 2, 5, 5), Rand(5, 2, 2, 3, 3));
        Check(x => F.conv2d(x[0], x[1], null, groups: 2), Rand(6, 1, 4, 3, 3), Rand(7, 2, 2, 2, 2));
        Check(x => F.conv_transpose2d(x[0], x[1], x[2], stride: 2, padding: 1, output_padding: 1), Rand(8, 1, 2, 3, 3), Rand(9, 2, 3, 3, 3), Rand(10, 3));
        Check(x => F.interpolate(x[0], 4, 6, bilinear: true), Rand(11, 1, 2, 2, 3));
        Check(x => F.interpolate(x[0], 4, 6), Rand(12, 1, 2, 2, 3));
        Check(x => F.avg_pool2d(x[0], 2), Rand(13, 1, 1, 4, 4));
        Check(x => F.adaptive_avg_pool2d(x[0], 1, 1), Rand(14, 2, 3, 3, 3));
        Check(x => F.max_pool2d(x[0], 2), Rand(15, 1, 1, 4, 4));
    }

    [Fact]
    public void Normalisation()
    {
        Check(x => F.group_norm(x[0], 2, x[1], x[2]), Rand(1, 2, 4, 3, 3), Rand(2, 4), Rand(3, 4));
        Check(x => F.layer_norm(x[0], [5], x[1], x[2]), Rand(4, 3, 5), Rand(5, 5), Rand(6, 5));
        Check(x => x[0].softmax(1), Rand(7, 3, 4));
        Check(x => x[0].log_softmax(0), Rand(8, 3, 4));
    }

    [Fact]
    public void Attention()
    {
        Check(x => F.scaled_dot_product_attention(x[0], x[1], x[2]), Rand(1, 1, 2, 3, 4), Rand(2, 1, 2, 5, 4), Rand(3, 1, 2, 5, 4));
        using var mask = torch.tensor(new[] { true, true, false, true, false }, [1, 1, 1, 5]);
        Check(x => F.scaled_dot_product_attention(x[0], x[1], x[2], mask), Rand(4, 1, 2, 3, 4), Rand(5, 1, 2, 5, 4), Rand(6, 1, 2, 5, 4));
    }

    [Fact]
    public void AttentionLayerMatchesHandWrittenFormula()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var layer = new ConceptErasure.Torch.nn.Attention(query_dim: 6, context_dim: 5, heads: 2, dim_head: 3);
        layer.to(ScalarType.Float64);
        var x = torch.randn([2, 4, 6], dtype: ScalarType.Float64);
        var c = torch.randn([2, 3, 5], dtype: ScalarType.Float64);
        var y = layer.forward(x, c);
        // reference: per head h, softmax(Q_h K_hᵀ/√3) V_h, concatenated, then to_out.0
        var q = F.linear(x, layer.to_q.weight); var k = F.linear(c, layer.to_k.weight); var v = F.linear(c, layer.to_v.weight);
        var heads = new List<Tensor>();
        for (var h = 0; h < 2; h++)
        {
            var qh = q.slice(2, 3 * h, 3 * h + 3); var kh = k.slice(2, 3 * h, 3 * h + 3); var vh = v.slice(2, 3 * h, 3 * h + 3);
            heads.Add((qh.matmul(kh.transpose(1, 2)) / Math.Sqrt(3)).softmax(-1).matmul(vh));
        }
        var outLayer = (ConceptErasure.Torch.nn.Linear)layer.to_out[0];
        var reference = F.linear(torch.cat(heads, 2), outLayer.weight, outLayer.bias);
        Assert.True(torch.allclose(y, reference, rtol: 1e-12, atol: 1e-12));
        layer.Dispose();
    }

    [Fact]
    public void Losses()
    {
        Check(x => F.mse_loss(x[0], x[1]), Rand(1, 3, 4), Rand(2, 3, 4));
        Check(x => F.mse_loss(x[0], x[1], Reduction.None), Rand(3, 3, 4), Rand(4, 3, 4));
        Check(x => F.l1_loss(x[0], x[1], Reduction.Sum), Rand(5, 3, 4), Rand(6, 3, 4));
        using var target = torch.tensor(new long[] { 2, 0, 1 });
        Check(x => F.cross_entropy(x[0], target), Rand(7, 3, 4));
        Check(x => F.cross_entropy(x[0], target, label_smoothing: 0.1), Rand(8, 3, 4));
        Check(x => F.nll_loss(x[0].log_softmax(1), target, Reduction.Sum), Rand(9, 3, 4));
        Check(x => F.binary_cross_entropy_with_logits(x[0], x[1]), Rand(10, 3, 4), RandIn(11, 0.0, 1.0, 3, 4));
        Check(x => F.cross_entropy(x[0], x[1].softmax(1)), Rand(12, 3, 4), Rand(13, 3, 4));
    }

    [Fact]
    public void EmbeddingGradientFlowsToRowsUsed()
    {
        using var idx = torch.tensor(new long[] { 1, 3, 1 });
        Check(x => F.embedding(idx, x[0]), Rand(1, 4, 3));
    }

    [Fact]
    public void GradientWithRespectToArbitraryInputs()
    {
        // d/dc ‖W c‖² = 2 Wᵀ W c — the kind of gradient the adversarial search takes w.r.t. a text embedding.
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(new double[] { 1, 2, 0, -1, 3, 1 }, [2, 3]);
        var c = torch.tensor(new double[] { 0.5, -1, 2 }).requires_grad_();
        var y = w.matmul(c).square().sum();
        var g = torch.autograd.grad(y, c);
        var expected = (w.T.matmul(w).matmul(c) * 2.0).detach();
        Assert.True(torch.allclose(g, expected, 1e-12, 1e-12));
        Assert.Null(c.grad);   // autograd.grad does not accumulate into .grad
    }

    [Fact]
    public void BackwardAccumulatesIntoLeafGrad()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new double[] { 1, 2, 3 }).requires_grad_();
        (x * x).sum().backward();
        (x * 3.0).sum().backward();
        Assert.Equal(new double[] { 5, 7, 9 }, x.grad!.ToDoubleArray());   // 2x + 3
        x.zero_grad();
        Assert.Null(x.grad);
    }

    [Fact]
    public void GumbelSoftmaxStraightThroughIsOneHotForwardWithSoftGradient()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(5);
        var logits = torch.tensor(new double[] { 0.1, 2.0, -1.0, 0.5 }).requires_grad_();
        var y = F.gumbel_softmax(logits, tau: 0.5, hard: true, generator: g);
        var values = y.ToDoubleArray();
        Assert.Equal(1.0, values.Sum(), 12);
        Assert.Equal(3, values.Count(v => v == 0));
        using var w = torch.tensor(new double[] { 1, 2, 3, 4 });
        (y * w).sum().backward();
        Assert.Contains(logits.grad!.ToDoubleArray(), v => Math.Abs(v) > 1e-6);   // gradients pass through
    }
}
