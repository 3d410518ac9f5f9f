// Module states to and from safetensors files (Data/Serialization.cs): a round trip is exact, and every way a file
// can silently disagree with the module is one error naming the file and the tensor — including a dtype relabelled
// to another of the same width (F32 → I32), which used to be converted value by value into garbage.
using System.Buffers.Binary;
using System.Text;
using ConceptErasure.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Data;

public sealed class SerializationTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ce-ser").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static Sequential Net(long width = 4) => nn.Sequential(nn.Linear(3, width), nn.LayerNorm(width));

    /// <summary>Rewrites one header field of a safetensors file in place (same length keeps the offsets valid).</summary>
    static void Relabel(string path, string from, string to)
    {
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, n);
        Assert.Contains(from, header);
        var patched = Encoding.UTF8.GetBytes(header.Replace(from, to));
        Assert.Equal(n, patched.Length);
        patched.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void ModuleRoundTripIsExactWithMetadata()
    {
        var path = Path.Combine(dir, "m.safetensors");
        using var a = Net();
        using var b = Net();
        Serialization.SaveModule(a, path, new Dictionary<string, string> { ["kind"] = "test" });
        Assert.Equal("test", Serialization.LoadModule(b, path)["kind"]);
        foreach (var (k, v) in a.state_dict()) Assert.True(v.eq(b.state_dict()[k]).all().item<bool>(), k);
    }

    [Fact]
    public void RelabelledDtypeIsRefusedNotConverted()
    {
        var path = Path.Combine(dir, "m.safetensors");
        using var a = Net();
        Serialization.SaveModule(a, path);
        Relabel(path, "\"F32\"", "\"I32\"");
        using var b = Net();
        var ex = Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("Int32", ex.Message);
        Assert.Contains("refusing to convert", ex.Message);
    }

    [Fact]
    public void NonFiniteWeightsAreNamed()
    {
        var path = Path.Combine(dir, "m.safetensors");
        using var a = Net();
        using (no_grad()) ((Linear)a[0]).weight[1, 2] = torch.tensor(float.NaN);
        Serialization.SaveModule(a, path);
        using var b = Net();
        var ex = Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path));
        Assert.Contains("'0.weight'", ex.Message);
        Assert.Contains("1 non-finite", ex.Message);
    }

    [Fact]
    public void ShapeMissingUnexpectedAndTruncatedFilesAreNamedErrors()
    {
        var path = Path.Combine(dir, "m.safetensors");
        using (var wide = Net(5)) Serialization.SaveModule(wide, path);
        using var b = Net();
        Assert.Contains("shape", Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path)).Message);

        using (var small = nn.Sequential(nn.Linear(3, 4))) Serialization.SaveModule(small, path);
        Assert.Contains("missing tensors 1.bias, 1.weight", Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path)).Message);
        using (var big = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 1))) Serialization.SaveModule(big, path);
        Assert.Contains("unexpected tensors 2.bias, 2.weight", Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path)).Message);

        Serialization.SaveModule(b, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Serialization.LoadModule(b, path)).Message);
    }

    [Theory]
    [InlineData(ScalarType.Float32)] [InlineData(ScalarType.Float16)] [InlineData(ScalarType.BFloat16)] [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Bool)] [InlineData(ScalarType.Byte)]
    public void TensorsRoundTripEachDType(ScalarType dtype)
    {
        var path = Path.Combine(dir, "t.safetensors");
        using var scope = NewDisposeScope();
        var t = (torch.arange(0, 6, 1, ScalarType.Float64).reshape(2, 3) * 1.5).to(dtype);
        Serialization.Save(new Dictionary<string, Tensor> { ["x"] = t, ["scalar"] = torch.full(Array.Empty<long>(), 3, dtype) }, path);
        var back = Serialization.Load(path);
        Assert.Equal(dtype, back["x"].dtype);
        Assert.Equal(new long[] { 2, 3 }, back["x"].shape);
        Assert.Empty(back["scalar"].shape);
        Assert.True(back["x"].eq(t).all().item<bool>());
        foreach (var v in back.Values) v.Dispose();
    }
}
