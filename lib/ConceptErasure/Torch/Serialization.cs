// Serialization.cs — tensors and module states to and from safetensors files (the format Stable Diffusion
// checkpoints are shipped in). Byte-level parsing and validation live in Safetensors.cs; this file maps dtypes
// and moves the bytes in and out of libtorch.
using ConceptErasure.Torch.nn;

namespace ConceptErasure.Torch;

public static class Serialization
{
    static SafetensorsDType ToFile(ScalarType t) => t switch
    {
        ScalarType.Float32 => SafetensorsDType.F32, ScalarType.Float64 => SafetensorsDType.F64,
        ScalarType.Float16 => SafetensorsDType.F16, ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Int64 => SafetensorsDType.I64, ScalarType.Int32 => SafetensorsDType.I32,
        ScalarType.Bool => SafetensorsDType.BOOL, ScalarType.UInt8 => SafetensorsDType.U8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
    static ScalarType FromFile(SafetensorsDType t, string source, string name) => t switch
    {
        SafetensorsDType.F32 => ScalarType.Float32, SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.F16 => ScalarType.Float16, SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.I64 => ScalarType.Int64, SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.BOOL => ScalarType.Bool, SafetensorsDType.U8 => ScalarType.UInt8,
        _ => throw new InvalidDataException($"{source}: tensor '{name}' has dtype {t.FileName()}, which the tensor library does not support"),
    };

    /// <summary>Writes named tensors atomically (temp file + rename) with optional string metadata.</summary>
    public static void Save(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.Select(kv => new SafetensorsEntry(kv.Key, ToFile(kv.Value.dtype), kv.Value.shape, kv.Value.bytes()));
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
            result[e.Name] = torch.from_bytes(e.Data.Span, FromFile(e.DType, path, e.Name), e.Shape, device).DetachFromDisposeScope();
        return result;
    }

    /// <summary>Saves a module's parameters and buffers (its state_dict).</summary>
    public static void SaveModule(Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(module.state_dict(), path, metadata);

    /// <summary>Loads a state saved by SaveModule into a module of the same architecture. A missing, unexpected
    /// or mis-shaped key is an error naming the file.</summary>
    public static IReadOnlyDictionary<string, string> LoadModule(Module module, string path, bool strict = true)
    {
        var state = Load(path, null, out var metadata);
        try { module.load_state_dict(state, strict); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return metadata;
    }
}
