// TorchExtensions.cs — the few things the workbook needs that TorchSharp 0.107 does not give, in one place.
//
//   Rng        seeded random draws made on the CPU and then moved, so that one seed gives the same noise on every
//              device (TorchSharp draws on the target device, whose generator differs); generator state that is
//              checked before it reaches libtorch (a wrong-sized state aborts the process there).
//   Guarded    matmul and autograd.grad through paths that raise .NET exceptions: TorchSharp's native
//              THSTensor_matmul and THSAutograd_grad are not wrapped in its error guard, so a shape mismatch or a
//              misuse ends the process (exit 134) instead of throwing. matmul checks shapes first; grad runs as a
//              guarded backward into the inputs' .grad (PyTorch's retain_graph = create_graph default kept, an
//              unused input gives null or a clear error).
//   Functional the straight-through Gumbel-Softmax with a generator (Jang et al. 2017; not in TorchSharp).
//   Layers     GroupNorm with PyTorch's initialisation: TorchSharp 0.107's nn.GroupNorm leaves its affine weight and bias
//              as torch.empty (uninitialised memory, NaN seen here), unlike LayerNorm and the convolutions.
//   Modules    a deep copy of a module (TorchSharp has no clone): a fresh instance from its configuration with the
//              state copied; parameter counts, host copies of values, and the live-tensor count tests use.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Engine;

/// <summary>Seeded draws made on the CPU and moved to the device: a seed means the same numbers everywhere.</summary>
public static class Rng
{
    /// <summary>A CPU generator seeded with <paramref name="seed"/>.</summary>
    public static Generator Create(ulong seed) => new(seed, CPU);

    static Tensor OnDevice(Tensor cpu, Device? device)
    {
        if (device is null || device.type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(device);
    }

    static Generator? CheckCpu(Generator? g) =>
        g is null || g.device.type == DeviceType.CPU ? g : throw new ArgumentException("seeded draws use a CPU generator (Rng.Create)");

    /// <summary>N(0, 1) samples of the given shape.</summary>
    public static Tensor randn(long[] shape, Generator? generator, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        OnDevice(torch.randn(shape, dtype, CPU, generator: CheckCpu(generator)), device);

    /// <summary>U[0, 1) samples of the given shape.</summary>
    public static Tensor rand(long[] shape, Generator? generator, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        OnDevice(torch.rand(shape, dtype, CPU, generator: CheckCpu(generator)), device);

    /// <summary>Integers uniform in [low, high), int64.</summary>
    public static Tensor randint(long low, long high, long[] shape, Generator? generator, Device? device = null)
    {
        // checked here: libtorch's randint is one of the entry points whose errors abort the process
        if (high <= low) throw new ArgumentException($"randint: empty range [{low}, {high})");
        if (shape.Any(s => s < 0)) throw new ArgumentException($"randint: negative size [{string.Join(", ", shape)}]");
        return OnDevice(torch.randint(low, high, shape, ScalarType.Int64, CPU, generator: CheckCpu(generator)), device);
    }

    /// <summary>One integer uniform in [0, n).</summary>
    public static long Int(long n, Generator generator)
    {
        using var t = randint(0, n, [1], generator);
        return t.item<long>();
    }

    /// <summary>A random permutation of 0 … n−1, int64.</summary>
    public static Tensor randperm(long n, Generator? generator, Device? device = null) =>
        OnDevice(torch.randperm(n, ScalarType.Int64, CPU, generator: CheckCpu(generator)), device);

    /// <summary>The generator's state as bytes (for checkpoints).</summary>
    public static byte[] GetState(Generator generator)
    {
        using var s = generator.get_state();
        return s.data<byte>().ToArray();
    }

    /// <summary>Restores a state from <see cref="GetState"/>; a state of the wrong size is refused (libtorch would
    /// abort the process).</summary>
    public static void SetState(Generator generator, byte[] state)
    {
        using var current = generator.get_state();
        if (state.Length != current.numel())
            throw new InvalidDataException($"a random generator state must be {current.numel()} bytes, got {state.Length}");
        using var s = torch.tensor(state, ScalarType.Byte);
        generator.set_state(s);
    }
}

/// <summary>Operations routed so that their errors are .NET exceptions, not a process abort.</summary>
public static class Guarded
{
    /// <summary>torch.matmul with PyTorch's shape rules checked first (1-D, 2-D and broadcast batched operands).</summary>
    public static Tensor matmul(Tensor a, Tensor b)
    {
        var (x, y) = (a.shape, b.shape);
        if (x.Length == 0 || y.Length == 0) throw new ArgumentException("matmul: both operands need at least one dimension");
        var inner = x[^1];
        var other = y.Length == 1 ? y[0] : y[^2];
        if (inner != other)
            throw new ArgumentException($"matmul: shapes [{string.Join(", ", x)}] and [{string.Join(", ", y)}] cannot be multiplied ({inner} ≠ {other})");
        if (x.Length > 2 && y.Length > 2)
        {
            var (bx, by) = (x[..^2], y[..^2]);
            for (int i = bx.Length - 1, j = by.Length - 1; i >= 0 && j >= 0; i--, j--)
                if (bx[i] != by[j] && bx[i] != 1 && by[j] != 1)
                    throw new ArgumentException($"matmul: batch dimensions of [{string.Join(", ", x)}] and [{string.Join(", ", y)}] do not broadcast");
        }
        return a.matmul(b);
    }

    /// <summary>Gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/> (torch.autograd.grad),
    /// computed by a guarded backward that accumulates into the inputs only. retain_graph defaults to create_graph as
    /// in PyTorch; an input the outputs do not depend on gives null with allow_unused, otherwise an error. Any .grad an
    /// input held before is restored afterwards.</summary>
    public static Tensor?[] grad(IList<Tensor> outputs, IList<Tensor> inputs, IList<Tensor>? grad_outputs = null,
        bool? retain_graph = null, bool create_graph = false, bool allow_unused = false)
    {
        if (outputs.Count == 0 || inputs.Count == 0) throw new ArgumentException("autograd.grad: needs at least one output and one input");
        for (var i = 0; i < outputs.Count; i++)
        {
            if (!outputs[i].requires_grad) throw new ArgumentException($"autograd.grad: output {i} does not require grad (computed without a graph)");
            if (grad_outputs is null && outputs[i].numel() != 1)
                throw new ArgumentException($"autograd.grad: output {i} has {outputs[i].numel()} elements; give grad_outputs for non-scalar outputs");
        }
        if (grad_outputs is not null)
        {
            if (grad_outputs.Count != outputs.Count) throw new ArgumentException("autograd.grad: grad_outputs must match outputs in length");
            for (var i = 0; i < outputs.Count; i++)
                if (!outputs[i].shape.SequenceEqual(grad_outputs[i].shape))
                    throw new ArgumentException($"autograd.grad: grad_outputs[{i}] has shape [{string.Join(", ", grad_outputs[i].shape)}], output [{string.Join(", ", outputs[i].shape)}]");
        }
        for (var i = 0; i < inputs.Count; i++)
            if (!inputs[i].requires_grad) throw new ArgumentException($"autograd.grad: input {i} does not require grad");

        var saved = inputs.Select(t => t.grad).ToArray();
        foreach (var t in inputs) t.grad = null;
        try
        {
            foreach (var t in inputs) if (!t.is_leaf) t.retain_grad();
            torch.autograd.backward(outputs, grad_outputs, retain_graph ?? create_graph, create_graph, inputs);
            var result = new Tensor?[inputs.Count];
            for (var i = 0; i < inputs.Count; i++)
            {
                result[i] = inputs[i].grad;
                if (result[i] is null && !allow_unused)
                    throw new ArgumentException($"autograd.grad: input {i} was not used to compute the outputs (pass allow_unused: true)");
            }
            return result;
        }
        finally
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                inputs[i].grad = saved[i];
                saved[i]?.Dispose();
            }
        }
    }

    /// <summary>The gradient of a scalar with respect to one input.</summary>
    public static Tensor grad(Tensor output, Tensor input, bool? retain_graph = null, bool create_graph = false) =>
        grad([output], [input], null, retain_graph, create_graph)[0]!;
}

/// <summary>Functions TorchSharp's nn.functional lacks.</summary>
public static class Functional
{
    /// <summary>Gumbel-Softmax over the last dim (Jang et al. 2017): softmax((logits + g)/τ), g = −log(−log u), u ~ U(0, 1)
    /// drawn from the generator. With <paramref name="hard"/> the forward value is the one-hot argmax while gradients
    /// flow through the soft sample (straight-through): y_hard − sg(y_soft) + y_soft.</summary>
    public static Tensor gumbel_softmax(Tensor logits, double tau = 1, bool hard = false, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        return gumbel_softmax(logits, gumbel_noise(logits, generator), tau, hard).MoveToOuterDisposeScope();
    }

    /// <summary>g = −log(−log u), u ~ U(0, 1), shaped like the logits: the random part of a Gumbel-Softmax sample,
    /// drawn apart so that the sample can be recomputed when the logits change (the same draw as gumbel_softmax's).</summary>
    public static Tensor gumbel_noise(Tensor logits, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var u = Rng.rand(logits.shape, generator, logits.device, logits.dtype);
        return (-(-u.clamp_min(1e-20).log()).clamp_min(1e-20).log()).MoveToOuterDisposeScope();
    }

    /// <summary>The Gumbel-Softmax sample of given noise g: softmax((logits + g)/τ), hard = straight-through one-hot.</summary>
    public static Tensor gumbel_softmax(Tensor logits, Tensor gumbel, double tau, bool hard)
    {
        using var scope = NewDisposeScope();
        var soft = ((logits + gumbel) / tau).softmax(-1);
        if (!hard) return soft.MoveToOuterDisposeScope();
        var index = soft.argmax(-1);
        var oneHot = nn.functional.one_hot(index, logits.size(-1)).to(logits.dtype);
        return (oneHot - soft.detach() + soft).MoveToOuterDisposeScope();
    }
}

/// <summary>Layers whose TorchSharp factory needs a fix.</summary>
public static class Layers
{
    /// <summary>nn.GroupNorm with weight = 1 and bias = 0 (PyTorch's reset_parameters; TorchSharp leaves them uninitialised).</summary>
    public static GroupNorm GroupNorm(long num_groups, long num_channels, double eps = 1e-5)
    {
        var norm = nn.GroupNorm(num_groups, num_channels, eps);
        using (no_grad())
        {
            norm.weight.fill_(1);
            norm.bias!.fill_(0);
        }
        return norm;
    }
}

/// <summary>Module helpers.</summary>
public static class Modules
{
    /// <summary>A deep copy: <paramref name="create"/> builds a fresh module of the same configuration (its random
    /// initialisation draws from the global generator, like any TorchSharp module's, and is then overwritten), then
    /// values, requires_grad and the train/eval mode are copied from <paramref name="source"/>.</summary>
    public static T Clone<T>(this T source, Func<T> create) where T : nn.Module
    {
        var copy = create();
        copy.to(source.DeviceOf());
        using (no_grad())
        {
            var from = source.state_dict();
            var to = copy.state_dict();
            if (!from.Keys.OrderBy(k => k, StringComparer.Ordinal).SequenceEqual(to.Keys.OrderBy(k => k, StringComparer.Ordinal)))
                throw new InvalidOperationException($"Clone: the new {typeof(T).Name} has other state keys than its source");
            foreach (var (k, v) in from) to[k].copy_(v);
        }
        foreach (var ((_, a), (_, b)) in source.named_parameters().Zip(copy.named_parameters())) b.requires_grad = a.requires_grad;
        copy.train(source.training);
        return copy;
    }

    /// <summary>Sets requires_grad on every parameter (false: frozen) and returns the module.</summary>
    public static T Freeze<T>(this T module, bool frozen = true) where T : nn.Module
    {
        foreach (var p in module.parameters()) p.requires_grad = !frozen;
        return module;
    }

    /// <summary>Number of parameter elements.</summary>
    public static long ParameterCount(this nn.Module module) => module.parameters().Sum(p => p.numel());

    /// <summary>The device of the module's first parameter (CPU for a module without parameters).</summary>
    public static Device DeviceOf(this nn.Module module) => module.parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>The elements as float64 values on the host (any dtype, any device).</summary>
    public static double[] ToDoubles(this Tensor t)
    {
        using var c = t.detach().to(ScalarType.Float64, CPU);
        return c.data<double>().ToArray();
    }

    /// <summary>The elements as float32 values on the host (any dtype, any device).</summary>
    public static float[] ToFloats(this Tensor t)
    {
        using var c = t.detach().to(ScalarType.Float32, CPU);
        return c.data<float>().ToArray();
    }

    /// <summary>Tensors of this thread created and not yet disposed (TorchSharp's dispose-scope statistics).</summary>
    public static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>Tensors this thread has created so far (one per operation that returns a tensor).</summary>
    public static long CreatedTensors
    {
        get
        {
            var s = DisposeScopeManager.Statistics;
            return s.CreatedInScopeCount + s.CreatedOutsideScopeCount;
        }
    }
}
