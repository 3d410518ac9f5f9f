// Tensor.Ops.cs — the operations of Tensor: conversion, views, arithmetic, reductions and in-place updates.
//
// Each member is one bridge call; broadcasting, dtype promotion and autograd are libtorch's. Shapes are given
// as `params long[]` (x.reshape(B, -1)); negative dims count from the end as in PyTorch.
namespace ConceptErasure.Torch;

public partial class Tensor
{
    static Tensor U(Native.Unary op, Tensor a) => Wrap(Native.ct_unary((int)op, a.Handle), op.ToString());
    static Tensor B(Native.Binary op, Tensor a, Tensor b, double alpha = 1) => Wrap(Native.ct_binary((int)op, a.Handle, b.Handle, alpha), op.ToString());
    static Tensor S(Native.Binary op, Tensor a, double s) => Wrap(Native.ct_binary_scalar((int)op, a.Handle, s), op.ToString());

    // ---- conversion ---------------------------------------------------------------------------------------
    public Tensor to(ScalarType dtype) => Wrap(Native.ct_to(Handle, (int)dtype, -1, 0, 0));
    public Tensor to(Device device) => Wrap(Native.ct_to(Handle, -1, (int)device.Type, device.Index, 0));
    public Tensor to(ScalarType dtype, Device device) => Wrap(Native.ct_to(Handle, (int)dtype, (int)device.Type, device.Index, 0));
    public Tensor cpu() => to(Device.CPU);
    public Tensor cuda(int index = 0) => to(new Device(DeviceType.CUDA, index));
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor @long() => to(ScalarType.Int64);
    public Tensor clone() => Wrap(Native.ct_clone(Handle));
    public Tensor detach() => Wrap(Native.ct_detach(Handle));
    public Tensor contiguous() => Wrap(Native.ct_contiguous(Handle));
    /// <summary>A second handle to the same tensor (same storage, same autograd node).</summary>
    public Tensor alias() => Wrap(Native.ct_alias(Handle));
    /// <summary>Replaces this tensor's data (device, dtype, values) while keeping its identity: PyTorch's `t.data = src`.</summary>
    public void set_data(Tensor src) => Native.Check(Native.ct_set_data(Handle, src.Handle));

    // ---- views and shape ops ------------------------------------------------------------------------------
    public unsafe Tensor reshape(params long[] shape) { fixed (long* p = shape) return Wrap(Native.ct_reshape(Handle, p, shape.Length)); }
    public unsafe Tensor view(params long[] shape) { fixed (long* p = shape) return Wrap(Native.ct_view(Handle, p, shape.Length)); }
    public unsafe Tensor permute(params long[] dims) { fixed (long* p = dims) return Wrap(Native.ct_permute(Handle, p, dims.Length)); }
    public Tensor transpose(long d0, long d1) => Wrap(Native.ct_transpose(Handle, d0, d1));
    /// <summary>Elements start..end (exclusive) with a step along dim; end = long.MaxValue means "to the end".</summary>
    public Tensor slice(long dim, long start, long end = long.MaxValue, long step = 1) => Wrap(Native.ct_slice(Handle, dim, start, end, step));
    public Tensor narrow(long dim, long start, long length) => slice(dim, start, start + length);
    /// <summary>Index along dim, removing that dim (x[i] for dim 0).</summary>
    public Tensor select(long dim, long index) => Wrap(Native.ct_select(Handle, dim, index));
    public Tensor this[long index] => select(0, index);
    public Tensor index_select(long dim, Tensor index) => Wrap(Native.ct_index_select(Handle, dim, index.Handle));
    public Tensor gather(long dim, Tensor index) => Wrap(Native.ct_gather(Handle, dim, index.Handle));
    public Tensor masked_select(Tensor mask) => Wrap(Native.ct_masked_select(Handle, mask.Handle));
    public unsafe Tensor[] chunk(long chunks, long dim = 0)
    {
        var output = new nint[chunks];
        int n;
        fixed (nint* p = output) n = Native.Check(Native.ct_chunk(Handle, chunks, dim, p, output.Length));
        var result = new Tensor[n];
        for (var i = 0; i < n; i++) result[i] = new Tensor(output[i]);
        return result;
    }
    public unsafe Tensor expand(params long[] shape) { fixed (long* p = shape) return Wrap(Native.ct_expand(Handle, p, shape.Length)); }
    public Tensor expand_as(Tensor other) => expand(other.shape);
    public unsafe Tensor repeat(params long[] reps) { fixed (long* p = reps) return Wrap(Native.ct_repeat(Handle, p, reps.Length)); }
    public Tensor flatten(long start_dim = 0, long end_dim = -1) => Wrap(Native.ct_flatten(Handle, start_dim, end_dim));
    public Tensor squeeze() => Wrap(Native.ct_squeeze(Handle, 0, 1));
    public Tensor squeeze(long dim) => Wrap(Native.ct_squeeze(Handle, dim, 0));
    public Tensor unsqueeze(long dim) => Wrap(Native.ct_unsqueeze(Handle, dim));
    public unsafe Tensor flip(params long[] dims) { fixed (long* p = dims) return Wrap(Native.ct_flip(Handle, p, dims.Length)); }
    public unsafe Tensor roll(long[] shifts, long[] dims)
    {
        if (shifts.Length != dims.Length) throw new ArgumentException("roll: shifts and dims differ in length");
        fixed (long* s = shifts) fixed (long* d = dims) return Wrap(Native.ct_roll(Handle, s, d, dims.Length));
    }
    public Tensor tril(long diagonal = 0) => Wrap(Native.ct_tril(Handle, diagonal, 0));
    public Tensor triu(long diagonal = 0) => Wrap(Native.ct_tril(Handle, diagonal, 1));
    public Tensor T => transpose(-2, -1);

    // ---- element-wise math --------------------------------------------------------------------------------
    public Tensor neg() => U(Native.Unary.Neg, this);
    public Tensor exp() => U(Native.Unary.Exp, this);
    public Tensor log() => U(Native.Unary.Log, this);
    public Tensor sqrt() => U(Native.Unary.Sqrt, this);
    public Tensor rsqrt() => U(Native.Unary.Rsqrt, this);
    public Tensor abs() => U(Native.Unary.Abs, this);
    public Tensor sin() => U(Native.Unary.Sin, this);
    public Tensor cos() => U(Native.Unary.Cos, this);
    public Tensor tanh() => U(Native.Unary.Tanh, this);
    public Tensor sigmoid() => U(Native.Unary.Sigmoid, this);
    public Tensor relu() => U(Native.Unary.Relu, this);
    public Tensor silu() => U(Native.Unary.Silu, this);
    public Tensor gelu(bool tanh_approximation = false) => U(tanh_approximation ? Native.Unary.GeluTanh : Native.Unary.Gelu, this);
    public Tensor atan() => U(Native.Unary.Atan, this);
    public Tensor sign() => U(Native.Unary.Sign, this);
    public Tensor floor() => U(Native.Unary.Floor, this);
    public Tensor ceil() => U(Native.Unary.Ceil, this);
    public Tensor round() => U(Native.Unary.Round, this);
    public Tensor square() => U(Native.Unary.Square, this);
    public Tensor reciprocal() => U(Native.Unary.Reciprocal, this);
    public Tensor log1p() => U(Native.Unary.Log1p, this);
    public Tensor expm1() => U(Native.Unary.Expm1, this);
    public Tensor softplus() => U(Native.Unary.Softplus, this);
    public Tensor erf() => U(Native.Unary.Erf, this);
    public Tensor isnan() => U(Native.Unary.IsNan, this);
    public Tensor isfinite() => U(Native.Unary.IsFinite, this);
    public Tensor logical_not() => U(Native.Unary.LogicalNot, this);
    public Tensor zeros_like() => U(Native.Unary.ZerosLike, this);
    public Tensor ones_like() => U(Native.Unary.OnesLike, this);

    public Tensor add(Tensor other, double alpha = 1) => B(Native.Binary.Add, this, other, alpha);
    public Tensor sub(Tensor other, double alpha = 1) => B(Native.Binary.Sub, this, other, alpha);
    public Tensor mul(Tensor other) => B(Native.Binary.Mul, this, other);
    public Tensor div(Tensor other) => B(Native.Binary.Div, this, other);
    public Tensor pow(Tensor exponent) => B(Native.Binary.Pow, this, exponent);
    public Tensor pow(double exponent) => S(Native.Binary.Pow, this, exponent);
    public Tensor maximum(Tensor other) => B(Native.Binary.Maximum, this, other);
    public Tensor minimum(Tensor other) => B(Native.Binary.Minimum, this, other);
    public Tensor clamp_min(double min) => S(Native.Binary.Maximum, this, min);
    public Tensor clamp_max(double max) => S(Native.Binary.Minimum, this, max);
    public Tensor clamp(double? min = null, double? max = null) => Wrap(Native.ct_clamp(Handle, min ?? double.NaN, max ?? double.NaN));
    public Tensor eq(Tensor o) => B(Native.Binary.Eq, this, o);
    public Tensor ne(Tensor o) => B(Native.Binary.Ne, this, o);
    public Tensor lt(Tensor o) => B(Native.Binary.Lt, this, o);
    public Tensor le(Tensor o) => B(Native.Binary.Le, this, o);
    public Tensor gt(Tensor o) => B(Native.Binary.Gt, this, o);
    public Tensor ge(Tensor o) => B(Native.Binary.Ge, this, o);
    public Tensor eq(double s) => S(Native.Binary.Eq, this, s);
    public Tensor ne(double s) => S(Native.Binary.Ne, this, s);
    public Tensor lt(double s) => S(Native.Binary.Lt, this, s);
    public Tensor le(double s) => S(Native.Binary.Le, this, s);
    public Tensor gt(double s) => S(Native.Binary.Gt, this, s);
    public Tensor ge(double s) => S(Native.Binary.Ge, this, s);
    public Tensor atan2(Tensor other) => B(Native.Binary.Atan2, this, other);
    public Tensor remainder(double s) => S(Native.Binary.Remainder, this, s);
    public Tensor floor_divide(double s) => S(Native.Binary.FloorDivide, this, s);
    public Tensor logical_and(Tensor o) => B(Native.Binary.LogicalAnd, this, o);
    public Tensor logical_or(Tensor o) => B(Native.Binary.LogicalOr, this, o);
    public Tensor masked_fill(Tensor mask, double value) => Wrap(Native.ct_masked_fill(Handle, mask.Handle, value));

    public static Tensor operator +(Tensor a, Tensor b) => B(Native.Binary.Add, a, b);
    public static Tensor operator -(Tensor a, Tensor b) => B(Native.Binary.Sub, a, b);
    public static Tensor operator *(Tensor a, Tensor b) => B(Native.Binary.Mul, a, b);
    public static Tensor operator /(Tensor a, Tensor b) => B(Native.Binary.Div, a, b);
    public static Tensor operator +(Tensor a, double s) => S(Native.Binary.Add, a, s);
    public static Tensor operator -(Tensor a, double s) => S(Native.Binary.Sub, a, s);
    public static Tensor operator *(Tensor a, double s) => S(Native.Binary.Mul, a, s);
    public static Tensor operator /(Tensor a, double s) => S(Native.Binary.Div, a, s);
    public static Tensor operator +(double s, Tensor a) => S(Native.Binary.Add, a, s);
    public static Tensor operator -(double s, Tensor a) => S(Native.Binary.RSub, a, s);
    public static Tensor operator *(double s, Tensor a) => S(Native.Binary.Mul, a, s);
    public static Tensor operator /(double s, Tensor a) => S(Native.Binary.RDiv, a, s);
    public static Tensor operator -(Tensor a) => a.neg();

    // ---- linear algebra -----------------------------------------------------------------------------------
    public Tensor matmul(Tensor other) => Wrap(Native.ct_matmul(Handle, other.Handle));
    public Tensor bmm(Tensor other) => Wrap(Native.ct_bmm(Handle, other.Handle));

    // ---- reductions ---------------------------------------------------------------------------------------
    unsafe Tensor R(Native.Reduce op, long[] dims, bool keepdim)
    {
        fixed (long* p = dims) return Wrap(Native.ct_reduce((int)op, Handle, p, dims.Length, keepdim ? 1 : 0), op.ToString());
    }
    public Tensor sum() => R(Native.Reduce.Sum, [], false);
    public Tensor sum(long dim, bool keepdim = false) => R(Native.Reduce.Sum, [dim], keepdim);
    public Tensor sum(long[] dims, bool keepdim = false) => R(Native.Reduce.Sum, dims, keepdim);
    public Tensor mean() => R(Native.Reduce.Mean, [], false);
    public Tensor mean(long dim, bool keepdim = false) => R(Native.Reduce.Mean, [dim], keepdim);
    public Tensor mean(long[] dims, bool keepdim = false) => R(Native.Reduce.Mean, dims, keepdim);
    /// <summary>Variance; unbiased (n − 1) by default as in PyTorch.</summary>
    public Tensor var(long[]? dims = null, bool unbiased = true, bool keepdim = false) =>
        R(unbiased ? Native.Reduce.Var : Native.Reduce.VarPop, dims ?? [], keepdim);
    public Tensor std(long[]? dims = null, bool keepdim = false) => R(Native.Reduce.Std, dims ?? [], keepdim);
    public Tensor amax(long[]? dims = null, bool keepdim = false) => R(Native.Reduce.Amax, dims ?? [], keepdim);
    public Tensor amin(long[]? dims = null, bool keepdim = false) => R(Native.Reduce.Amin, dims ?? [], keepdim);
    public Tensor max() => amax();
    public Tensor min() => amin();
    public Tensor prod(long[]? dims = null, bool keepdim = false) => R(Native.Reduce.Prod, dims ?? [], keepdim);
    public Tensor logsumexp(long dim, bool keepdim = false) => R(Native.Reduce.LogSumExp, [dim], keepdim);
    /// <summary>Euclidean norm over the given dims (all by default).</summary>
    public Tensor norm(long[]? dims = null, bool keepdim = false) => R(Native.Reduce.Norm2, dims ?? [], keepdim);
    public Tensor all() => R(Native.Reduce.All, [], false);
    public Tensor any() => R(Native.Reduce.Any, [], false);

    public unsafe (Tensor values, Tensor indices) max(long dim, bool keepdim = false)
    {
        nint v, i;
        Native.Check(Native.ct_max_dim(Handle, dim, keepdim ? 1 : 0, 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }
    public unsafe (Tensor values, Tensor indices) min(long dim, bool keepdim = false)
    {
        nint v, i;
        Native.Check(Native.ct_max_dim(Handle, dim, keepdim ? 1 : 0, 1, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }
    public Tensor argmax() => Wrap(Native.ct_argmax(Handle, long.MinValue, 0, 0));
    public Tensor argmax(long dim, bool keepdim = false) => Wrap(Native.ct_argmax(Handle, dim, keepdim ? 1 : 0, 0));
    public Tensor argmin(long dim, bool keepdim = false) => Wrap(Native.ct_argmax(Handle, dim, keepdim ? 1 : 0, 1));
    public unsafe (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true)
    {
        nint v, i;
        Native.Check(Native.ct_topk(Handle, k, dim, largest ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }
    public unsafe (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false)
    {
        nint v, i;
        Native.Check(Native.ct_sort(Handle, dim, descending ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }
    public Tensor cumsum(long dim) => Wrap(Native.ct_cumsum(Handle, dim));
    public Tensor softmax(long dim) => Wrap(Native.ct_softmax(Handle, dim, 0));
    public Tensor log_softmax(long dim) => Wrap(Native.ct_softmax(Handle, dim, 1));

    // ---- in-place updates (optimisers, initialisers; call under torch.no_grad() for parameters) ---------------
    Tensor I(Native.InPlace op, Tensor? other, double s)
    {
        Native.Check(Native.ct_inplace((int)op, Handle, other?.Handle ?? 0, s), op.ToString() + "_");
        return this;
    }
    public Tensor add_(Tensor other, double alpha = 1) => I(Native.InPlace.Add, other, alpha);
    public Tensor add_(double s) => I(Native.InPlace.Add, null, s);
    public Tensor sub_(Tensor other, double alpha = 1) => I(Native.InPlace.Sub, other, alpha);
    public Tensor mul_(Tensor other) => I(Native.InPlace.Mul, other, 0);
    public Tensor mul_(double s) => I(Native.InPlace.Mul, null, s);
    public Tensor div_(Tensor other) => I(Native.InPlace.Div, other, 0);
    public Tensor div_(double s) => I(Native.InPlace.Div, null, s);
    public Tensor copy_(Tensor src) => I(Native.InPlace.Copy, src, 0);
    public Tensor fill_(double value) => I(Native.InPlace.Fill, null, value);
    public Tensor zero_() => I(Native.InPlace.Fill, null, 0);
    public Tensor clamp_min_(double min) => I(Native.InPlace.ClampMin, null, min);
    public Tensor clamp_max_(double max) => I(Native.InPlace.ClampMax, null, max);
    public Tensor pow_(double exponent) => I(Native.InPlace.Pow, null, exponent);
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1) { Native.Check(Native.ct_addcmul_(Handle, t1.Handle, t2.Handle, value)); return this; }
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1) { Native.Check(Native.ct_addcdiv_(Handle, t1.Handle, t2.Handle, value)); return this; }
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null)
    {
        Native.Check(Native.ct_fill_random_(Handle, (int)Native.RandomKind.Randn, mean, std, generator?.Handle ?? 0));
        return this;
    }
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null)
    {
        Native.Check(Native.ct_fill_random_(Handle, (int)Native.RandomKind.Rand, from, to, generator?.Handle ?? 0));
        return this;
    }
}
