// Forward values against closed forms, errors, disposal, data transfer, dtypes and determinism of the bridge.
using ConceptErasure.Torch;

namespace ConceptErasure.Tests.Torch;

/// <summary>Tests that seed the global generator or count live tensors must not run beside other tests.</summary>
[CollectionDefinition("global torch state", DisableParallelization = true)]
public class LiveTensorCollection;

[Collection("global torch state")]
public class TensorTests
{
    [Fact]
    public void CreationAndMetadata()
    {
        using var scope = torch.NewDisposeScope();
        var z = torch.zeros([2, 3], ScalarType.Float64);
        Assert.Equal(new long[] { 2, 3 }, z.shape);
        Assert.Equal(ScalarType.Float64, z.dtype);
        Assert.Equal(Device.CPU, z.device);
        Assert.Equal(6, z.numel());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, torch.arange(5).data<long>());
        Assert.Equal(new float[] { 0, 0.25f, 0.5f, 0.75f, 1 }, torch.linspace(0, 1, 5).data<float>());
        Assert.Equal(7.5, torch.full([2], 7.5).sum().item() / 2);
        Assert.Equal(new double[] { 1, 0, 0, 1 }, torch.eye(2, ScalarType.Float64).data<double>());
        Assert.Equal(3.0, torch.ones(3).sum().item());
    }

    [Theory]
    [InlineData(ScalarType.Float32)] [InlineData(ScalarType.Float64)] [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)] [InlineData(ScalarType.Int64)] [InlineData(ScalarType.Bool)]
    public void DTypesRoundTripThroughBytes(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var source = torch.tensor(new double[] { 0, 1, 2, 3, 0, 1 }, [2, 3]).to(dtype);
        Assert.Equal(dtype, source.dtype);
        var bytes = source.bytes();
        Assert.Equal(6 * dtype.ElementSize(), bytes.Length);
        var back = torch.from_bytes(bytes, dtype, [2, 3]);
        Assert.True(back.eq(source).all().item() == 1);
        var expected = dtype == ScalarType.Bool ? new double[] { 0, 1, 1, 1, 0, 1 } : new double[] { 0, 1, 2, 3, 0, 1 };
        Assert.Equal(expected, back.ToDoubleArray());
    }

    [Fact]
    public void HalfPrecisionRoundsAsIeee()
    {
        using var scope = torch.NewDisposeScope();
        // 1 + 2⁻¹¹ is not representable in float16 (10-bit mantissa): rounds to 1; bfloat16 keeps 8 bits.
        var x = torch.tensor(new double[] { 1 + Math.Pow(2, -11), 1 + Math.Pow(2, -7) });
        Assert.Equal(new double[] { 1, 1 + Math.Pow(2, -7) }, x.to(ScalarType.Float16).ToDoubleArray());
        Assert.Equal(new double[] { 1, 1 + Math.Pow(2, -7) }, x.to(ScalarType.BFloat16).ToDoubleArray());
    }

    [Fact]
    public void ClosedFormForwardValues()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 2, 3, 4 }, [2, 2]);
        var b = torch.tensor(new double[] { 5, 6, 7, 8 }, [2, 2]);
        Assert.Equal(new double[] { 19, 22, 43, 50 }, a.matmul(b).ToDoubleArray());
        var sm = torch.tensor(new double[] { 0, Math.Log(3) }).softmax(0).ToDoubleArray();
        Assert.Equal(0.25, sm[0], 14); Assert.Equal(0.75, sm[1], 14);
        Assert.Equal(1.25, a.var(unbiased: false).item(), 14);   // Σ(x − 2.5)²/4 = 5/4
        Assert.Equal(5.0 / 3.0, a.var().item(), 14);             // unbiased: 5/3
        Assert.Equal(Math.Sqrt(30), a.norm().item(), 12);
        var (vals, idx) = torch.tensor(new double[] { 3, 1, 4, 1, 5 }).topk(2);
        Assert.Equal(new double[] { 5, 4 }, vals.ToDoubleArray());
        Assert.Equal(new long[] { 4, 2 }, idx.data<long>());
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(2)), torch.tensor(new double[] { 1, 2 }).logsumexp(0).item(), 12);
        // conv2d with an all-ones 2×2 kernel sums each window
        var img = torch.arange(0, 9, 1, ScalarType.Float64).reshape(1, 1, 3, 3);
        var k = torch.ones([1, 1, 2, 2], ScalarType.Float64);
        Assert.Equal(new double[] { 8, 12, 20, 24 }, F.conv2d(img, k).ToDoubleArray());
        // mse
        Assert.Equal(8.0, F.mse_loss(a, b).item() / 2, 12);   // mean of 16s = 16
        // cosine similarity of orthogonal / parallel vectors
        var cs = F.cosine_similarity(torch.tensor(new double[] { 1, 0, 2, 4 }, [2, 2]), torch.tensor(new double[] { 0, 3, 1, 2 }, [2, 2])).ToDoubleArray();
        Assert.Equal(0, cs[0], 12); Assert.Equal(1, cs[1], 12);
    }

    [Fact]
    public void NormalisationLayersNormalise()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(9);
        var x = torch.randn([2, 8, 5, 5], g, ScalarType.Float64) * 3.0 + 7.0;
        var y = F.group_norm(x, 4, eps: 0).reshape(2, 4, -1);
        Assert.True(y.mean([2]).abs().max().item() < 1e-12);
        Assert.True((y.var([2], unbiased: false) - 1.0).abs().max().item() < 1e-12);
        var z = F.layer_norm(x.reshape(10, 40), [40], eps: 0);
        Assert.True(z.mean([1]).abs().max().item() < 1e-12);
    }

    [Fact]
    public void ShapeMismatchBecomesManagedExceptionWithLibtorchMessage()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones(2, 3);
        var b = torch.ones(4, 5);
        var ex = Assert.Throws<TorchException>(() => a.matmul(b));
        Assert.Contains("mat1 and mat2 shapes cannot be multiplied", ex.Message);
        var ex2 = Assert.Throws<TorchException>(() => a + b);
        Assert.Contains("must match the size", ex2.Message);
        // the process survives and the next op works; no stale error leaks into it
        Assert.Equal(6.0, a.sum().item());
        Assert.Throws<TorchException>(() => a.reshape(7));
        Assert.Throws<ArgumentException>(() => torch.tensor(new float[] { 1, 2, 3 }, [2, 2]));
    }

    [Fact]
    public void DisposeScopeFreesEverythingCreatedInside()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();   // garbage of earlier tests must not be finalised during the count
        var before = Tensor.LiveCount;
        var nativeBefore = torch.LiveNativeHandles;
        Tensor kept;
        using (var outer = torch.NewDisposeScope())
        {
            var w = torch.randn(8, 8);
            for (var i = 0; i < 5000; i++)
            {
                using var inner = torch.NewDisposeScope();
                var y = (w.matmul(w) + 1.0).relu().sum(0).softmax(0);
                if (i == 4999) y.MoveToOuterScope();
            }
            Assert.Equal(2, outer.Count);   // w and the moved result
            kept = (w * 2.0).DetachFromDisposeScope();
        }
        Assert.False(kept.IsInvalid);
        Assert.Equal(before + 1, Tensor.LiveCount);
        kept.Dispose();
        Assert.Equal(before, Tensor.LiveCount);
        Assert.Equal(nativeBefore, torch.LiveNativeHandles);
    }

    [Fact]
    public void UsingDisposedTensorIsAClearError()
    {
        var t = torch.ones(2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.sum());
        t.Dispose();   // twice is harmless
    }

    [Fact]
    public void NoGradGuardStopsGraphRecording()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(3).requires_grad_();
        using (torch.no_grad())
        {
            Assert.False(torch.is_grad_enabled());
            Assert.False((x * 2.0).requires_grad);
            using (torch.enable_grad()) Assert.True((x * 2.0).requires_grad);
        }
        Assert.True(torch.is_grad_enabled());
        Assert.True((x * 2.0).requires_grad);
    }

    [Fact]
    public void SeededGeneratorsAreReproducibleAndRestorable()
    {
        using var scope = torch.NewDisposeScope();
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        Assert.Equal(torch.randn([5], g1).data<float>(), torch.randn([5], g2).data<float>());
        var state = g1.GetState();
        var next = torch.rand([4], g1).data<float>();
        g1.SetState(state);
        Assert.Equal(next, torch.rand([4], g1).data<float>());
        torch.manual_seed(7);
        var a = torch.randn(6).data<float>();
        torch.manual_seed(7);
        Assert.Equal(a, torch.randn(6).data<float>());
        var rng = torch.get_rng_state();
        var b = torch.randint(0, 100, [10]).data<long>();
        torch.set_rng_state(rng);
        Assert.Equal(b, torch.randint(0, 100, [10]).data<long>());
    }

    [Fact]
    public void DeviceParsing()
    {
        Assert.Equal(Device.CPU, Device.Parse("cpu"));
        Assert.Equal(new Device(DeviceType.CUDA, 1), Device.Parse("cuda:1"));
        Assert.Throws<ArgumentException>(() => Device.Parse("tpu"));
        if (!torch.cuda.is_available())
            Assert.Throws<TorchException>(() => { using var t = torch.ones([1], device: Device.CUDA); });
    }

    [Fact]
    public void ChunkStackCatAndIndexing()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(12).reshape(3, 4);
        var parts = x.chunk(2, 1);
        Assert.Equal(2, parts.Length);
        Assert.Equal(new long[] { 0, 1, 4, 5, 8, 9 }, parts[0].data<long>());
        Assert.Equal(x.data<long>(), torch.cat(parts, 1).data<long>());
        Assert.Equal(new long[] { 2, 3, 2 }, torch.stack(parts, 0).shape);
        Assert.Equal(new long[] { 4, 5, 6, 7 }, x[1].data<long>());
        Assert.Equal(new long[] { 9 }, x.slice(1, 1, 2).slice(0, 2, 3).flatten().data<long>());
        Assert.Equal(new long[] { 3, 1 }, x.argmax(1, keepdim: true).shape);
        Assert.Equal(11L, x.argmax().item<long>());
    }
}
