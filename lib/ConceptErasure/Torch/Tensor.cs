// Tensor.cs — layer 3 of the bridge: the public tensor type, a handle to a libtorch at::Tensor.
//
// The API follows PyTorch's names (reshape, permute, softmax, backward, grad…) so code reads like the papers'
// reference implementations. This file holds the lifetime, metadata, data transfer and autograd members; the
// operations are in Tensor.Ops.cs. Every result is a new Tensor owned by the current DisposeScope.
using System.Runtime.InteropServices;
using System.Text;

namespace ConceptErasure.Torch;

public partial class Tensor : IDisposable
{
    static long live, created;
    nint handle;

    /// <summary>Tensors created and not yet freed in this process (managed view; see torch.LiveNativeHandles).</summary>
    public static long LiveCount => Interlocked.Read(ref live);
    /// <summary>Tensors created so far in this process: one per bridge call that returns a tensor.</summary>
    public static long CreatedCount => Interlocked.Read(ref created);

    internal DisposeScope? Owner { get; set; }

    internal Tensor(nint handle)
    {
        this.handle = handle;
        Interlocked.Increment(ref live);
        Interlocked.Increment(ref created);
        DisposeScope.Current?.Adopt(this);
    }

    internal nint Handle => handle != 0 ? handle : throw new ObjectDisposedException("Tensor", "the tensor was disposed (by you or by its DisposeScope)");

    public bool IsInvalid => handle == 0;

    ~Tensor() => Free();

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    void Free()
    {
        var h = Interlocked.Exchange(ref handle, 0);
        if (h == 0) return;
        Native.ct_free(h);
        Interlocked.Decrement(ref live);
    }

    /// <summary>Moves this tensor out of its scope into the enclosing one (or out of all scopes) and returns it.</summary>
    public Tensor MoveToOuterScope()
    {
        var outer = Owner?.Outer;
        Owner = null;
        outer?.Adopt(this);
        return this;
    }

    /// <summary>Takes this tensor out of every dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Owner = null;
        return this;
    }

    internal static Tensor Wrap(nint h, string what = "") => new(Native.Check(h, what));

    // ---- metadata ---------------------------------------------------------------------------------------------
    public unsafe long[] shape
    {
        get
        {
            Span<long> buf = stackalloc long[16];
            int n;
            fixed (long* p = buf) n = Native.Check(Native.ct_sizes(Handle, p, 16));
            if (n > 16)
            {
                var big = new long[n];
                fixed (long* p = big) Native.Check(Native.ct_sizes(Handle, p, n));
                return big;
            }
            return buf[..n].ToArray();
        }
    }
    public long size(int dim) { var s = shape; return s[dim < 0 ? s.Length + dim : dim]; }
    public int dim() => Native.Check(Native.ct_dim(Handle));
    public int ndim => dim();
    public long numel() => Native.ct_numel(Handle);
    public ScalarType dtype => (ScalarType)Native.Check(Native.ct_dtype(Handle));
    public unsafe Device device
    {
        get
        {
            int index;
            var type = Native.Check(Native.ct_device(Handle, &index));
            return new Device((DeviceType)type, index);
        }
    }

    // ---- autograd ---------------------------------------------------------------------------------------------
    public bool requires_grad
    {
        get => Native.Check(Native.ct_requires_grad(Handle)) != 0;
        set => Native.Check(Native.ct_set_requires_grad(Handle, value ? 1 : 0));
    }
    public Tensor requires_grad_(bool on = true) { requires_grad = on; return this; }
    public bool is_leaf => Native.Check(Native.ct_is_leaf(Handle)) != 0;

    /// <summary>The accumulated gradient (a new handle to it), or null when none has been accumulated.</summary>
    public unsafe Tensor? grad
    {
        get
        {
            nint g;
            Native.Check(Native.ct_grad(Handle, &g));
            return g == 0 ? null : new Tensor(g);
        }
    }
    /// <summary>Drops the accumulated gradient (PyTorch's zero_grad(set_to_none=True)).</summary>
    public void zero_grad() => Native.Check(Native.ct_set_grad_none(Handle));

    public void backward(Tensor? gradient = null, bool retain_graph = false, bool create_graph = false) =>
        Native.Check(Native.ct_backward(Handle, gradient?.Handle ?? 0, retain_graph ? 1 : 0, create_graph ? 1 : 0));

    // ---- data transfer ----------------------------------------------------------------------------------------
    /// <summary>Copies the elements (row-major) to a new .NET array. T must match the dtype's size and kind.</summary>
    public unsafe T[] data<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[numel()];
        fixed (T* p = result) Native.Check(Native.ct_copy_to_host(Handle, p, (long)result.Length * sizeof(T)));
        return result;
    }
    public float[] ToFloatArray() => dtype == ScalarType.Float32 ? data<float>() : WithDType(ScalarType.Float32, t => t.data<float>());
    public double[] ToDoubleArray() => dtype == ScalarType.Float64 ? data<double>() : WithDType(ScalarType.Float64, t => t.data<double>());
    public long[] ToInt64Array() => dtype == ScalarType.Int64 ? data<long>() : WithDType(ScalarType.Int64, t => t.data<long>());

    R WithDType<R>(ScalarType dt, Func<Tensor, R> f)
    {
        using var c = to(dt);
        return f(c);
    }

    /// <summary>The single element as a double (works for any dtype and device).</summary>
    public unsafe double item()
    {
        double v;
        Native.Check(Native.ct_item(Handle, &v));
        return v;
    }
    public T item<T>() where T : unmanaged, IConvertible => (T)Convert.ChangeType(item(), typeof(T), System.Globalization.CultureInfo.InvariantCulture);

    void CheckElementType<T>() where T : unmanaged
    {
        var ok = dtype switch
        {
            ScalarType.Float32 => typeof(T) == typeof(float),
            ScalarType.Float64 => typeof(T) == typeof(double),
            ScalarType.Float16 => typeof(T) == typeof(Half) || typeof(T) == typeof(ushort),
            ScalarType.BFloat16 => typeof(T) == typeof(ushort),
            ScalarType.Int64 => typeof(T) == typeof(long),
            ScalarType.Int32 => typeof(T) == typeof(int),
            ScalarType.Bool => typeof(T) == typeof(bool) || typeof(T) == typeof(byte),
            ScalarType.UInt8 => typeof(T) == typeof(byte),
            _ => false,
        };
        if (!ok) throw new ArgumentException($"cannot read a {dtype.TorchName()} tensor as {typeof(T).Name}[]");
    }

    /// <summary>Raw bytes of the elements (row-major, little-endian), as stored in safetensors files.</summary>
    public unsafe byte[] bytes()
    {
        var result = new byte[numel() * dtype.ElementSize()];
        fixed (byte* p = result) Native.Check(Native.ct_copy_to_host(Handle, p, result.Length));
        return result;
    }

    public override string ToString()
    {
        if (IsInvalid) return "tensor(<disposed>)";
        var sb = new StringBuilder();
        sb.Append("tensor(shape=[").Append(string.Join(", ", shape)).Append("], dtype=").Append(dtype.TorchName());
        if (device.Type != DeviceType.CPU) sb.Append(", device=").Append(device);
        if (requires_grad) sb.Append(", requires_grad");
        sb.Append(')');
        if (numel() <= 16 && dtype != ScalarType.BFloat16)
        {
            var values = ToDoubleArray();
            sb.Append(" [").Append(string.Join(", ", values.Select(v => v.ToString("G5", System.Globalization.CultureInfo.InvariantCulture)))).Append(']');
        }
        return sb.ToString();
    }
}

/// <summary>A trainable tensor owned by a Module: requires grad and never belongs to a dispose scope.</summary>
public sealed class Parameter : Tensor
{
    /// <summary>Takes ownership of <paramref name="value"/> (which is disposed) and makes a trainable leaf of it.</summary>
    public Parameter(Tensor value, bool requires_grad = true) : base(Native.Check(Native.ct_detach(value.Handle)))
    {
        DetachFromDisposeScope();
        value.Dispose();
        this.requires_grad = requires_grad;
    }
}
