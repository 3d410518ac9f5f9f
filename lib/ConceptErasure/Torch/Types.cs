// Types.cs — dtypes and devices of the tensor API, spelled as in PyTorch/TorchSharp (float32, cuda:0, …).
namespace ConceptErasure.Torch;

/// <summary>Element type of a tensor. The numeric values are the bridge's dtype codes.</summary>
public enum ScalarType { Float32 = 0, Float64 = 1, Float16 = 2, BFloat16 = 3, Int64 = 4, Int32 = 5, Bool = 6, UInt8 = 7 }

public enum DeviceType { CPU = 0, CUDA = 1 }

/// <summary>Where a tensor lives: "cpu", "cuda" or "cuda:1".</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA);

    public static Device Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cpu" => CPU,
        "cuda" => CUDA,
        var s when s.StartsWith("cuda:") && int.TryParse(s[5..], out var i) && i >= 0 => new Device(DeviceType.CUDA, i),
        _ => throw new ArgumentException($"unknown device '{text}': expected cpu, cuda or cuda:N"),
    };

    public override string ToString() => Type == DeviceType.CPU ? "cpu" : $"cuda:{Index}";
}

public static class ScalarTypeExtensions
{
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Bool or ScalarType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static bool IsFloatingPoint(this ScalarType t) =>
        t is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>The name PyTorch prints (float32, bfloat16, int64, bool…).</summary>
    public static string TorchName(this ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32", ScalarType.Float64 => "float64", ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16", ScalarType.Int64 => "int64", ScalarType.Int32 => "int32",
        ScalarType.Bool => "bool", ScalarType.UInt8 => "uint8", _ => t.ToString(),
    };
}
