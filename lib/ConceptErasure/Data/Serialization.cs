// Serialization.cs — tensors and module states to and from safetensors files (the format Stable Diffusion
// checkpoints are shipped in). Byte-level parsing and validation live in Safetensors.cs; this file maps dtypes
// and moves the bytes in and out of TorchSharp tensors.
//
// Loading into a module is strict in every way a silent mismatch could hide a broken file: the keys must match
// both ways, every tensor must have the shape AND the dtype the module expects (a file whose F32 tensors were
// relabelled I32 would otherwise be converted value by value into garbage), and floating-point weights must be
// finite. Each problem is one InvalidDataException naming the file and the tensor.
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Data;

public static class Serialization
{
    static SafetensorsDType ToFile(ScalarType t) => t switch
    {
        ScalarType.Float32 => SafetensorsDType.F32, ScalarType.Float64 => SafetensorsDType.F64,
        ScalarType.Float16 => SafetensorsDType.F16, ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Int64 => SafetensorsDType.I64, ScalarType.Int32 => SafetensorsDType.I32,
        ScalarType.Bool => SafetensorsDType.BOOL, ScalarType.Byte => SafetensorsDType.U8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "no safetensors dtype for this tensor type"),
    };
    static ScalarType FromFile(SafetensorsDType t, string source, string name) => t switch
    {
        SafetensorsDType.F32 => ScalarType.Float32, SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.F16 => ScalarType.Float16, SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.I64 => ScalarType.Int64, SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.BOOL => ScalarType.Bool, SafetensorsDType.U8 => ScalarType.Byte,
        _ => throw new InvalidDataException($"{source}: tensor '{name}' has dtype {t.FileName()}, which the tensor library does not support"),
    };

    /// <summary>The raw little-endian bytes of a tensor's elements in row-major order (copied to the CPU).</summary>
    public static byte[] Bytes(Tensor t)
    {
        using var c = t.device_type == DeviceType.CPU ? t.contiguous() : t.cpu().contiguous();
        return c.bytes.ToArray();
    }

    /// <summary>A CPU tensor of the given dtype and shape from raw little-endian bytes.</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType dtype, long[] shape)
    {
        var t = empty(shape, dtype);
        if (bytes.Length != t.bytes.Length)
        {
            t.Dispose();
            throw new ArgumentException($"{bytes.Length} bytes do not fill a {dtype} tensor of shape [{string.Join(", ", shape)}]");
        }
        bytes.CopyTo(t.bytes);
        return t;
    }

    /// <summary>Writes named tensors atomically (temp file + rename) with optional string metadata.</summary>
    public static void Save(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.Select(kv => new SafetensorsEntry(kv.Key, ToFile(kv.Value.dtype), kv.Value.shape, Bytes(kv.Value)));
        Safetensors.Write(path, entries, metadata);
    }

    /// <summary>Reads every tensor of a safetensors file (on the CPU unless a device is given). The caller owns
    /// the returned tensors (they belong to no dispose scope).</summary>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null) => Load(path, device, out _);

    public static Dictionary<string, Tensor> Load(string path, Device? device, out IReadOnlyDictionary<string, string> metadata)
    {
        var file = Safetensors.Read(path);
        metadata = file.Metadata;
        var result = new Dictionary<string, Tensor>();
        foreach (var e in file.Entries)
        {
            var cpu = FromBytes(e.Data.Span, FromFile(e.DType, path, e.Name), e.Shape);
            var t = device is null || device.type == DeviceType.CPU ? cpu : cpu.to(device, disposeAfter: true);
            result[e.Name] = t.DetachFromDisposeScope();
        }
        return result;
    }

    /// <summary>Saves a module's parameters and buffers (its state_dict).</summary>
    public static void SaveModule(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(module.state_dict(), path, metadata);

    /// <summary>Loads a state saved by SaveModule into a module of the same architecture. A missing, unexpected,
    /// mis-shaped, mis-typed or non-finite tensor is an error naming the file and the tensor.</summary>
    public static IReadOnlyDictionary<string, string> LoadModule(nn.Module module, string path, bool strict = true)
    {
        var state = Load(path, null, out var metadata);
        try { LoadState(module, state, path, strict); }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return metadata;
    }

    /// <summary>Copies <paramref name="state"/> into the module's parameters and buffers (in place, on the module's
    /// device). strict: every key must match both ways; otherwise unknown keys are still an error and missing ones
    /// keep their values. Shapes and dtypes must be the module's (no silent conversion); floating-point values must be
    /// finite. <paramref name="source"/> names the origin in errors.</summary>
    public static void LoadState(nn.Module module, IReadOnlyDictionary<string, Tensor> state, string source, bool strict = true)
    {
        var own = module.state_dict();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{source}: unexpected tensors {List(unexpected)} (not in this {module.GetType().Name})");
        if (strict && missing.Count > 0)
            throw new InvalidDataException($"{source}: missing tensors {List(missing)} (this {module.GetType().Name} has them)");
        using var _ = no_grad();
        foreach (var (k, src) in state)
        {
            var dst = own[k];
            if (!dst.shape.SequenceEqual(src.shape))
                throw new InvalidDataException($"{source}: tensor '{k}' has shape [{string.Join(", ", src.shape)}], the model expects [{string.Join(", ", dst.shape)}]");
            if (dst.dtype != src.dtype)
                throw new InvalidDataException($"{source}: tensor '{k}' is stored as {src.dtype}, the model expects {dst.dtype} (refusing to convert)");
            if (src.is_floating_point())
            {
                using var finite = src.isfinite().all();
                if (!finite.item<bool>())
                {
                    using var bad = src.isfinite().logical_not().sum();
                    throw new InvalidDataException($"{source}: tensor '{k}' holds {bad.item<long>()} non-finite values (NaN or ±inf)");
                }
            }
            dst.copy_(src);
        }
    }

    static string List(IReadOnlyList<string> keys) => string.Join(", ", keys.Take(8)) + (keys.Count > 8 ? $", … ({keys.Count} in all)" : "");
}
