// torch.cs — the `torch` namespace of PyTorch in C#: tensor creation, random generators, grad-mode guards,
// autograd.grad, seeding, threads and devices. `using static ConceptErasure.Torch.torch;` lets code read
// `zeros(2, 3)`, `randn([B, 4, 8, 8], generator: g)` and `using (no_grad()) { … }` as in Python.
using System.Runtime.InteropServices;

namespace ConceptErasure.Torch;

/// <summary>A seeded CPU random generator. Random tensors are drawn on the CPU and moved, so a seed gives the
/// same numbers on every device; the state can be saved and restored for exact resumption.</summary>
public sealed class Generator : IDisposable
{
    nint handle;
    public Generator(ulong seed) { handle = Native.Check(Native.ct_generator_new(seed)); Seed = seed; }
    public ulong Seed { get; }
    internal nint Handle => handle != 0 ? handle : throw new ObjectDisposedException(nameof(Generator));

    public byte[] GetState()
    {
        using var s = Tensor.Wrap(Native.ct_generator_get_state(Handle));
        return s.data<byte>();
    }
    public void SetState(byte[] state)
    {
        using var s = torch.tensor(state);
        Native.Check(Native.ct_generator_set_state(Handle, s.Handle));
    }
    ~Generator() => Free();
    public void Dispose() { Free(); GC.SuppressFinalize(this); }
    void Free() { var h = Interlocked.Exchange(ref handle, 0); if (h != 0) Native.ct_generator_free(h); }
}

public static class torch
{
    public const ScalarType float32 = ScalarType.Float32, float64 = ScalarType.Float64, float16 = ScalarType.Float16,
        bfloat16 = ScalarType.BFloat16, int64 = ScalarType.Int64, int32 = ScalarType.Int32, @bool = ScalarType.Bool, uint8 = ScalarType.UInt8;

    // ---- runtime ----------------------------------------------------------------------------------------------
    /// <summary>Version of the libtorch the bridge was built against (e.g. "1.13.1").</summary>
    public static string version => Marshal.PtrToStringUTF8(Native.ct_version())!;
    /// <summary>libtorch's build configuration (BLAS, oneDNN, OpenMP, CUDA) and parallel settings.</summary>
    public static string config => Marshal.PtrToStringUTF8(Native.ct_config())!;
    public static long LiveNativeHandles => Native.ct_live_handles();
    public static void set_num_threads(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), "thread count must be ≥ 1");
        Native.ct_set_num_threads(n);
    }
    public static int get_num_threads() => Native.ct_get_num_threads();

    /// <summary>Seeds libtorch's global generators (CPU and CUDA). With the same thread count, the same seed
    /// gives bit-identical results on the CPU.</summary>
    public static void manual_seed(ulong seed) => Native.ct_manual_seed(seed);
    public static void use_deterministic_algorithms(bool on) => Native.Check(Native.ct_set_deterministic(on ? 1 : 0));
    /// <summary>State of the global CPU generator, for checkpoints.</summary>
    public static byte[] get_rng_state()
    {
        using var s = Tensor.Wrap(Native.ct_generator_get_state(0));
        return s.data<byte>();
    }
    public static void set_rng_state(byte[] state)
    {
        using var s = tensor(state);
        Native.Check(Native.ct_generator_set_state(0, s.Handle));
    }

    public static class cuda
    {
        public static bool is_available() => Native.ct_cuda_is_available() != 0;
        public static int device_count() => Native.ct_cuda_device_count();
        public static void synchronize() => Native.Check(Native.ct_cuda_synchronize());
    }

    public static DisposeScope NewDisposeScope() => new();

    // ---- grad mode --------------------------------------------------------------------------------------------
    /// <summary>Restores the previous grad mode when disposed.</summary>
    public readonly struct GradModeGuard(bool previous) : IDisposable
    {
        public void Dispose() => Native.ct_set_grad_enabled(previous ? 1 : 0);
    }
    /// <summary>`using (no_grad()) { … }`: no autograd graph is recorded inside.</summary>
    public static GradModeGuard no_grad() => new(Native.ct_set_grad_enabled(0) != 0);
    public static GradModeGuard enable_grad() => new(Native.ct_set_grad_enabled(1) != 0);
    public static bool is_grad_enabled() => Native.ct_is_grad_enabled() != 0;

    public static class autograd
    {
        /// <summary>Gradients of outputs with respect to arbitrary inputs (PyTorch's torch.autograd.grad).
        /// An input the outputs do not depend on gives null when allow_unused, else an error.</summary>
        public static unsafe Tensor?[] grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? grad_outputs = null,
            bool retain_graph = false, bool create_graph = false, bool allow_unused = false)
        {
            var outs = outputs.Select(t => t.Handle).ToArray();
            var ins = inputs.Select(t => t.Handle).ToArray();
            var gouts = grad_outputs?.Select(t => t?.Handle ?? 0).ToArray();
            if (gouts != null && gouts.Length != outs.Length) throw new ArgumentException("grad_outputs must match outputs in length");
            var result = new nint[ins.Length];
            fixed (nint* o = outs) fixed (nint* i = ins) fixed (nint* g = gouts) fixed (nint* r = result)
                Native.Check(Native.ct_autograd_grad(o, g, outs.Length, i, ins.Length, retain_graph ? 1 : 0,
                    create_graph ? 1 : 0, allow_unused ? 1 : 0, r));
            return result.Select(h => h == 0 ? null : new Tensor(h)).ToArray();
        }
        public static Tensor grad(Tensor output, Tensor input, bool retain_graph = false, bool create_graph = false) =>
            grad([output], [input], null, retain_graph, create_graph)[0]!;
    }

    // ---- creation ---------------------------------------------------------------------------------------------
    static (int type, int index) D(Device? d) => d is { } v ? ((int)v.Type, v.Index) : (0, 0);

    public static unsafe Tensor full(long[] shape, double value, ScalarType dtype = float32, Device? device = null)
    {
        var (t, i) = D(device);
        fixed (long* p = shape) return Tensor.Wrap(Native.ct_full(p, shape.Length, value, (int)dtype, t, i));
    }
    public static Tensor zeros(long[] shape, ScalarType dtype = float32, Device? device = null) => full(shape, 0, dtype, device);
    public static Tensor ones(long[] shape, ScalarType dtype = float32, Device? device = null) => full(shape, 1, dtype, device);
    public static Tensor zeros(params long[] shape) => full(shape, 0);
    public static Tensor ones(params long[] shape) => full(shape, 1);
    public static Tensor scalar_tensor(double value, ScalarType dtype = float32, Device? device = null) => full([], value, dtype, device);
    public static unsafe Tensor empty(long[] shape, ScalarType dtype = float32, Device? device = null)
    {
        var (t, i) = D(device);
        fixed (long* p = shape) return Tensor.Wrap(Native.ct_empty(p, shape.Length, (int)dtype, t, i));
    }
    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = int64, Device? device = null)
    {
        var (t, i) = D(device);
        return Tensor.Wrap(Native.ct_arange(start, end, step, (int)dtype, t, i));
    }
    public static Tensor arange(long end, ScalarType dtype = int64, Device? device = null) => arange(0, end, 1, dtype, device);
    public static Tensor linspace(double start, double end, long steps, ScalarType dtype = float32, Device? device = null)
    {
        var (t, i) = D(device);
        return Tensor.Wrap(Native.ct_linspace(start, end, steps, (int)dtype, t, i));
    }
    public static Tensor eye(long n, ScalarType dtype = float32, Device? device = null)
    {
        var (t, i) = D(device);
        return Tensor.Wrap(Native.ct_eye(n, (int)dtype, t, i));
    }

    // random
    static unsafe Tensor Random(Native.RandomKind kind, long[] shape, Generator? g, ScalarType dtype, Device? device)
    {
        var (t, i) = D(device);
        fixed (long* p = shape) return Tensor.Wrap(Native.ct_random((int)kind, p, shape.Length, g?.Handle ?? 0, (int)dtype, t, i));
    }
    /// <summary>Standard normal samples; with a generator the draw is reproducible on any device.</summary>
    public static Tensor randn(long[] shape, Generator? generator = null, ScalarType dtype = float32, Device? device = null) =>
        Random(Native.RandomKind.Randn, shape, generator, dtype, device);
    public static Tensor rand(long[] shape, Generator? generator = null, ScalarType dtype = float32, Device? device = null) =>
        Random(Native.RandomKind.Rand, shape, generator, dtype, device);
    public static Tensor randn(params long[] shape) => randn(shape, null);
    public static Tensor rand(params long[] shape) => rand(shape, null);
    public static Tensor randn_like(Tensor t, Generator? generator = null) => randn(t.shape, generator, t.dtype, t.device);
    public static Tensor rand_like(Tensor t, Generator? generator = null) => rand(t.shape, generator, t.dtype, t.device);
    public static unsafe Tensor randint(long low, long high, long[] shape, Generator? generator = null, Device? device = null)
    {
        var (t, i) = D(device);
        fixed (long* p = shape) return Tensor.Wrap(Native.ct_randint(low, high, p, shape.Length, generator?.Handle ?? 0, t, i));
    }
    public static Tensor randperm(long n, Generator? generator = null, Device? device = null)
    {
        var (t, i) = D(device);
        return Tensor.Wrap(Native.ct_randperm(n, generator?.Handle ?? 0, t, i));
    }
    public static Tensor multinomial(Tensor probs, long num_samples, bool replacement = false, Generator? generator = null) =>
        Tensor.Wrap(Native.ct_multinomial(probs.Handle, num_samples, replacement ? 1 : 0, generator?.Handle ?? 0));

    // from .NET data (copied)
    static unsafe Tensor From<T>(ReadOnlySpan<T> data, long[] shape, ScalarType dtype, Device? device) where T : unmanaged
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        if (n * dtype.ElementSize() != (long)data.Length * sizeof(T))
            throw new ArgumentException($"tensor: {data.Length} values of {typeof(T).Name} do not fill {dtype.TorchName()}[{string.Join(", ", shape)}]");
        var (t, i) = D(device);
        fixed (T* src = data) fixed (long* p = shape)
            return Tensor.Wrap(Native.ct_from_data(src, p, shape.Length, (int)dtype, t, i));
    }
    public static Tensor tensor(ReadOnlySpan<float> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], float32, device);
    public static Tensor tensor(ReadOnlySpan<double> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], float64, device);
    public static Tensor tensor(ReadOnlySpan<long> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], int64, device);
    public static Tensor tensor(ReadOnlySpan<int> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], int32, device);
    public static Tensor tensor(ReadOnlySpan<bool> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], @bool, device);
    public static Tensor tensor(ReadOnlySpan<byte> data, long[]? shape = null, Device? device = null) => From(data, shape ?? [data.Length], uint8, device);
    public static Tensor tensor(float[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(double[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(long[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(int[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(bool[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(byte[] data, long[]? shape = null, Device? device = null) => tensor(data.AsSpan(), shape, device);
    public static Tensor tensor(double value) => scalar_tensor(value);
    /// <summary>A tensor of the given dtype from its raw little-endian bytes (as in safetensors files).</summary>
    public static Tensor from_bytes(ReadOnlySpan<byte> bytes, ScalarType dtype, long[] shape, Device? device = null)
        => From(bytes, shape, dtype, device);

    // ---- combining ----------------------------------------------------------------------------------------
    public static unsafe Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var hs = tensors.Select(t => t.Handle).ToArray();
        fixed (nint* p = hs) return Tensor.Wrap(Native.ct_cat(p, hs.Length, dim));
    }
    public static unsafe Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var hs = tensors.Select(t => t.Handle).ToArray();
        fixed (nint* p = hs) return Tensor.Wrap(Native.ct_stack(p, hs.Length, dim));
    }
    public static Tensor where(Tensor condition, Tensor a, Tensor b) => Tensor.Wrap(Native.ct_where(condition.Handle, a.Handle, b.Handle));
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor bmm(Tensor a, Tensor b) => a.bmm(b);
    public static bool allclose(Tensor a, Tensor b, double rtol = 1e-5, double atol = 1e-8)
    {
        using var scope = NewDisposeScope();
        using var a64 = a.to(float64);
        using var b64 = b.to(float64);
        var excess = ((a64 - b64).abs() - (b64.abs() * rtol + atol)).max().item();
        return excess <= 0;
    }
}
