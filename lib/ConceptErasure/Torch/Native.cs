// Native.cs — layer 2 of the bridge: the P/Invoke declarations of libconcept_torch.so (lib/native).
//
// Every declaration mirrors one function of concept_torch.h, with blittable arguments only (handles as nint,
// shapes as long*), so calls need no marshalling stubs. Results are checked here: a NULL handle or a negative
// status means the C++ side caught an exception, whose message is turned into a TorchException. Nothing outside
// the Torch folder calls this class; the public API (Tensor, torch, F, nn, optim) sits on top of it.
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConceptErasure.Torch;

/// <summary>An error raised inside libtorch (shape mismatch, bad dtype, out of memory…), with libtorch's message.</summary>
public sealed class TorchException(string message) : Exception(message);

/// <summary>Finds the bridge beside ConceptErasure.dll (the build copies it there): one `#r "…/ConceptErasure.dll"`
/// is then enough in a notebook, whatever the host's probing rules.</summary>
internal static class NativeLoader
{
    [ModuleInitializer]
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, static (name, assembly, searchPath) =>
        {
            if (name != Native.Lib) return IntPtr.Zero;
            var dir = Path.GetDirectoryName(assembly.Location);
            if (!string.IsNullOrEmpty(dir))
            {
                var candidate = Path.Combine(dir, "lib" + Native.Lib + ".so");
                if (File.Exists(candidate)) return NativeLibrary.Load(candidate);
            }
            return NativeLibrary.TryLoad(name, assembly, searchPath, out var h) ? h : IntPtr.Zero;
        });
}

internal static unsafe class Native
{
    internal const string Lib = "concept_torch";

    // libtorch's Debian build starts with one intra-op thread; use every core unless the user chose
    // (OMP_NUM_THREADS, or torch.set_num_threads later). Runs before the first call into the bridge.
    static Native()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_NUM_THREADS")))
            ct_set_num_threads(Environment.ProcessorCount);
    }

    // ---- checks -------------------------------------------------------------------------------------------
    internal static Exception LastError(string what)
    {
        var p = ct_last_error();
        var msg = p == IntPtr.Zero ? $"{what} failed without a message" : Marshal.PtrToStringUTF8(p)!;
        ct_clear_error();
        return new TorchException(msg.Trim());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint Check(nint handle, [CallerArgumentExpression(nameof(handle))] string what = "")
        => handle != 0 ? handle : throw LastError(what);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Check(int status, [CallerArgumentExpression(nameof(status))] string what = "")
        => status >= 0 ? status : throw LastError(what);

    // ---- errors, runtime --------------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_last_error();
    [DllImport(Lib)] internal static extern void ct_clear_error();
    [DllImport(Lib)] internal static extern nint ct_version();
    [DllImport(Lib)] internal static extern long ct_live_handles();
    [DllImport(Lib)] internal static extern void ct_set_num_threads(int n);
    [DllImport(Lib)] internal static extern int ct_get_num_threads();
    [DllImport(Lib)] internal static extern int ct_cuda_is_available();
    [DllImport(Lib)] internal static extern int ct_cuda_device_count();
    [DllImport(Lib)] internal static extern int ct_cuda_synchronize();
    [DllImport(Lib)] internal static extern int ct_set_deterministic(int on);
    [DllImport(Lib)] internal static extern void ct_manual_seed(ulong seed);
    [DllImport(Lib)] internal static extern int ct_set_grad_enabled(int on);
    [DllImport(Lib)] internal static extern int ct_is_grad_enabled();
    [DllImport(Lib)] internal static extern nint ct_config();
    [DllImport(Lib)] internal static extern double ct_bench_native_add(long iters);

    // ---- generators -----------------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_generator_new(ulong seed);
    [DllImport(Lib)] internal static extern void ct_generator_free(nint g);
    [DllImport(Lib)] internal static extern nint ct_generator_get_state(nint g);
    [DllImport(Lib)] internal static extern int ct_generator_set_state(nint g, nint state);

    // ---- lifecycle and metadata -----------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern void ct_free(nint t);
    [DllImport(Lib)] internal static extern int ct_dim(nint t);
    [DllImport(Lib)] internal static extern int ct_sizes(nint t, long* output, int cap);
    [DllImport(Lib)] internal static extern int ct_dtype(nint t);
    [DllImport(Lib)] internal static extern int ct_device(nint t, int* index);
    [DllImport(Lib)] internal static extern long ct_numel(nint t);
    [DllImport(Lib)] internal static extern int ct_requires_grad(nint t);
    [DllImport(Lib)] internal static extern int ct_set_requires_grad(nint t, int on);
    [DllImport(Lib)] internal static extern int ct_is_leaf(nint t);
    [DllImport(Lib)] internal static extern int ct_grad(nint t, nint* output);
    [DllImport(Lib)] internal static extern int ct_set_grad_none(nint t);
    [DllImport(Lib)] internal static extern int ct_copy_to_host(nint t, void* dst, long nbytes);
    [DllImport(Lib)] internal static extern int ct_item(nint t, double* output);

    // ---- creation ------------------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_from_data(void* src, long* sizes, int ndim, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_full(long* sizes, int ndim, double value, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_empty(long* sizes, int ndim, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_arange(double start, double end, double step, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_linspace(double start, double end, long steps, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_eye(long n, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_random(int kind, long* sizes, int ndim, nint g, int dtype, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_randint(long low, long high, long* sizes, int ndim, nint g, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_randperm(long n, nint g, int device, int index);
    [DllImport(Lib)] internal static extern nint ct_multinomial(nint probs, long n, int replacement, nint g);
    [DllImport(Lib)] internal static extern int ct_fill_random_(nint t, int kind, double a, double b, nint g);

    // ---- conversion, copies --------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_to(nint t, int dtype, int device, int index, int copy);
    [DllImport(Lib)] internal static extern nint ct_clone(nint t);
    [DllImport(Lib)] internal static extern nint ct_detach(nint t);
    [DllImport(Lib)] internal static extern nint ct_contiguous(nint t);
    [DllImport(Lib)] internal static extern nint ct_alias(nint t);
    [DllImport(Lib)] internal static extern int ct_set_data(nint t, nint src);

    // ---- views and shape ops -------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_reshape(nint t, long* sizes, int n);
    [DllImport(Lib)] internal static extern nint ct_view(nint t, long* sizes, int n);
    [DllImport(Lib)] internal static extern nint ct_permute(nint t, long* dims, int n);
    [DllImport(Lib)] internal static extern nint ct_transpose(nint t, long d0, long d1);
    [DllImport(Lib)] internal static extern nint ct_slice(nint t, long dim, long start, long end, long step);
    [DllImport(Lib)] internal static extern nint ct_select(nint t, long dim, long index);
    [DllImport(Lib)] internal static extern nint ct_index_select(nint t, long dim, nint index);
    [DllImport(Lib)] internal static extern nint ct_gather(nint t, long dim, nint index);
    [DllImport(Lib)] internal static extern nint ct_masked_select(nint t, nint mask);
    [DllImport(Lib)] internal static extern nint ct_cat(nint* ts, int n, long dim);
    [DllImport(Lib)] internal static extern nint ct_stack(nint* ts, int n, long dim);
    [DllImport(Lib)] internal static extern int ct_chunk(nint t, long chunks, long dim, nint* output, int cap);
    [DllImport(Lib)] internal static extern nint ct_expand(nint t, long* sizes, int n);
    [DllImport(Lib)] internal static extern nint ct_repeat(nint t, long* reps, int n);
    [DllImport(Lib)] internal static extern nint ct_flatten(nint t, long start, long end);
    [DllImport(Lib)] internal static extern nint ct_squeeze(nint t, long dim, int all);
    [DllImport(Lib)] internal static extern nint ct_unsqueeze(nint t, long dim);
    [DllImport(Lib)] internal static extern nint ct_flip(nint t, long* dims, int n);
    [DllImport(Lib)] internal static extern nint ct_roll(nint t, long* shifts, long* dims, int n);
    [DllImport(Lib)] internal static extern nint ct_tril(nint t, long diagonal, int upper);
    [DllImport(Lib)] internal static extern nint ct_one_hot(nint t, long classes);
    [DllImport(Lib)] internal static extern nint ct_pad(nint t, long* pad, int n, double value);

    // ---- math ------------------------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_unary(int op, nint a);
    [DllImport(Lib)] internal static extern nint ct_binary(int op, nint a, nint b, double alpha);
    [DllImport(Lib)] internal static extern nint ct_binary_scalar(int op, nint a, double s);
    [DllImport(Lib)] internal static extern nint ct_where(nint cond, nint a, nint b);
    [DllImport(Lib)] internal static extern nint ct_masked_fill(nint t, nint mask, double value);
    [DllImport(Lib)] internal static extern nint ct_clamp(nint t, double lo, double hi);
    [DllImport(Lib)] internal static extern nint ct_reduce(int op, nint t, long* dims, int n, int keepdim);
    [DllImport(Lib)] internal static extern int ct_max_dim(nint t, long dim, int keepdim, int minimum, nint* values, nint* indices);
    [DllImport(Lib)] internal static extern nint ct_argmax(nint t, long dim, int keepdim, int minimum);
    [DllImport(Lib)] internal static extern int ct_topk(nint t, long k, long dim, int largest, nint* values, nint* indices);
    [DllImport(Lib)] internal static extern int ct_sort(nint t, long dim, int descending, nint* values, nint* indices);
    [DllImport(Lib)] internal static extern nint ct_cumsum(nint t, long dim);
    [DllImport(Lib)] internal static extern int ct_inplace(int op, nint a, nint b, double scalar);
    [DllImport(Lib)] internal static extern int ct_addcmul_(nint a, nint b, nint c, double value);
    [DllImport(Lib)] internal static extern int ct_addcdiv_(nint a, nint b, nint c, double value);

    // ---- linear algebra and neural-network functions ---------------------------------------------------------
    [DllImport(Lib)] internal static extern nint ct_matmul(nint a, nint b);
    [DllImport(Lib)] internal static extern nint ct_bmm(nint a, nint b);
    [DllImport(Lib)] internal static extern nint ct_linear(nint x, nint w, nint b);
    [DllImport(Lib)] internal static extern nint ct_conv2d(nint x, nint w, nint b, long stride, long padding, long dilation, long groups);
    [DllImport(Lib)] internal static extern nint ct_conv_transpose2d(nint x, nint w, nint b, long stride, long padding, long outputPadding, long groups);
    [DllImport(Lib)] internal static extern nint ct_interpolate(nint x, long h, long w, int bilinear, int alignCorners);
    [DllImport(Lib)] internal static extern nint ct_avg_pool2d(nint x, long k, long s, long p);
    [DllImport(Lib)] internal static extern nint ct_max_pool2d(nint x, long k, long s, long p);
    [DllImport(Lib)] internal static extern nint ct_adaptive_avg_pool2d(nint x, long h, long w);
    [DllImport(Lib)] internal static extern nint ct_group_norm(nint x, long groups, nint w, nint b, double eps);
    [DllImport(Lib)] internal static extern nint ct_layer_norm(nint x, long* shape, int n, nint w, nint b, double eps);
    [DllImport(Lib)] internal static extern nint ct_softmax(nint x, long dim, int log);
    [DllImport(Lib)] internal static extern nint ct_dropout(nint x, double p, int train);
    [DllImport(Lib)] internal static extern nint ct_embedding(nint weight, nint indices);
    [DllImport(Lib)] internal static extern nint ct_cosine_similarity(nint a, nint b, long dim, double eps);
    [DllImport(Lib)] internal static extern nint ct_attention(nint q, nint k, nint v, nint mask, double scale);
    [DllImport(Lib)] internal static extern nint ct_mse_loss(nint a, nint b, int reduction);
    [DllImport(Lib)] internal static extern nint ct_l1_loss(nint a, nint b, int reduction);
    [DllImport(Lib)] internal static extern nint ct_cross_entropy(nint logits, nint target, int reduction, double smoothing);
    [DllImport(Lib)] internal static extern nint ct_nll_loss(nint logp, nint target, int reduction);
    [DllImport(Lib)] internal static extern nint ct_bce_with_logits(nint logits, nint target, int reduction);

    // ---- autograd --------------------------------------------------------------------------------------------
    [DllImport(Lib)] internal static extern int ct_backward(nint t, nint grad, int retainGraph, int createGraph);
    [DllImport(Lib)] internal static extern int ct_autograd_grad(nint* outputs, nint* gradOutputs, int nOut, nint* inputs, int nIn,
                                                                int retainGraph, int createGraph, int allowUnused, nint* result);
    [DllImport(Lib)] internal static extern double ct_clip_grad_norm(nint* parameters, int n, double maxNorm);

    // ---- op codes (mirror the enums of concept_torch.h, in order) ----------------------------------------------
    internal enum Unary { Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sin, Cos, Tanh, Sigmoid, Relu, Silu, Gelu, GeluTanh, Atan, Sign, Floor, Ceil,
        Round, Square, Reciprocal, Log1p, Expm1, Softplus, IsNan, IsFinite, LogicalNot, Erf, ZerosLike, OnesLike }
    internal enum Binary { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Atan2, Remainder, LogicalAnd, LogicalOr,
        FloorDivide, RSub, RDiv, RPow }
    internal enum Reduce { Sum, Mean, Var, VarPop, Std, Amax, Amin, Prod, LogSumExp, Norm2, All, Any }
    internal enum InPlace { Add, Sub, Mul, Div, Copy, Fill, ClampMin, ClampMax, Pow }
    internal enum RandomKind { Randn, Rand }
}
