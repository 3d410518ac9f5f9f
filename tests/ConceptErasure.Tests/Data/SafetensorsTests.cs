// Tests of the byte-level safetensors reader and writer: round trips for every dtype (scalars and empty
// tensors included), deterministic output, byte-for-byte agreement with the layouts the reference writer
// produces, parsing of files built by hand from the format specification, rejection of every kind of broken
// file, and atomic writes.
//
// Reference: the safetensors format specification, https://github.com/huggingface/safetensors (README,
// "Format"); the expected header lengths 8, 40 and 72 below are those the reference implementation's own tests
// record for the same inputs.
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // ------------------------------------------------------------------------------------------ helpers

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static SafetensorsEntry Entry(string name, SafetensorsDType dtype, long[] shape, int seed = 1)
    {
        var count = shape.Aggregate(1L, (n, d) => n * d);
        return new SafetensorsEntry(name, dtype, shape, RandomBytes((int)(count * dtype.ItemSize()), seed));
    }

    /// <summary>A file assembled by hand: length prefix (the true one unless given), header text, data.</summary>
    private static byte[] Build(string header, byte[] data, ulong? declaredLength = null)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength ?? (ulong)headerBytes.Length);
        headerBytes.CopyTo(file, 8);
        data.CopyTo(file, 8 + headerBytes.Length);
        return file;
    }

    private static string Info(string dtype, string shape, long begin, long end) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}");

    private static InvalidDataException Rejects(byte[] file, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Read(file, "broken.safetensors"));
        Assert.StartsWith("broken.safetensors: ", e.Message);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
        return e;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private string[] FilesInDir() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order().ToArray()!;

    // ------------------------------------------------------------------------------------------ round trips

    public static TheoryData<SafetensorsDType> AllDTypes()
    {
        var data = new TheoryData<SafetensorsDType>();
        foreach (var d in Enum.GetValues<SafetensorsDType>())
            data.Add(d);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void RoundTripsEveryDTypeIncludingScalarsAndEmptyTensors(SafetensorsDType dtype)
    {
        var entries = new[]
        {
            Entry("scalar", dtype, [], seed: 1),
            Entry("vector", dtype, [5], seed: 2),
            Entry("matrix", dtype, [2, 3], seed: 3),
            Entry("cube", dtype, [2, 1, 3], seed: 4),
            Entry("empty", dtype, [0], seed: 5),
            Entry("empty.inner", dtype, [3, 0, 2], seed: 6),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["dtype"] = dtype.FileName() };
        var path = Path.Combine(_dir, "t.safetensors");

        Safetensors.Write(path, entries, metadata);
        var file = Safetensors.Read(path);

        Assert.Equal(entries.Select(e => e.Name).Order(StringComparer.Ordinal), file.Names);
        foreach (var expected in entries)
        {
            var actual = file[expected.Name];
            Assert.Equal(dtype, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
            Assert.Equal(expected.ElementCount * dtype.ItemSize(), actual.Data.Length);
        }
        Assert.Equal(1, file["scalar"].ElementCount);
        Assert.Equal(0, file["empty.inner"].Data.Length);
        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata);
        Assert.Equal(path, file.Source);
    }

    [Fact]
    public void RoundTripsKnownValuesOfF32F16Bf16AndI64()
    {
        // 1.5 is exact in all three float formats: F32 0x3FC00000, F16 0x3E00, BF16 0x3FC0.
        var f16 = new byte[2];
        BinaryPrimitives.WriteHalfLittleEndian(f16, (Half)1.5f);
        var i64 = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(i64, -3);
        BinaryPrimitives.WriteInt64LittleEndian(i64.AsSpan(8), long.MaxValue);
        var entries = new[]
        {
            new SafetensorsEntry("f32", SafetensorsDType.F32, [1], Floats(1.5f)),
            new SafetensorsEntry("f16", SafetensorsDType.F16, [], f16),
            new SafetensorsEntry("bf16", SafetensorsDType.BF16, [1], new byte[] { 0xC0, 0x3F }),
            new SafetensorsEntry("i64", SafetensorsDType.I64, [2], i64),
        };

        var file = Safetensors.Read(Safetensors.Serialize(entries), "mem");

        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(file["f32"].Data.Span));
        Assert.Equal(new byte[] { 0x00, 0x3E }, file["f16"].Data.ToArray());
        Assert.Equal(1.5f, (float)BinaryPrimitives.ReadHalfLittleEndian(file["f16"].Data.Span));
        Assert.Equal(new byte[] { 0xC0, 0x3F }, file["bf16"].Data.ToArray());
        Assert.Equal(-3, BinaryPrimitives.ReadInt64LittleEndian(file["i64"].Data.Span));
        Assert.Equal(long.MaxValue, BinaryPrimitives.ReadInt64LittleEndian(file["i64"].Data.Span[8..]));
    }

    [Fact]
    public void RoundTripsAFileWithNoTensors()
    {
        var path = Path.Combine(_dir, "none.safetensors");
        Safetensors.Write(path, []);
        var file = Safetensors.Read(path);
        Assert.Equal(0, file.Count);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void RoundTripsNonAsciiNamesAndMetadata()
    {
        var entries = new[] { Entry("unet.down.0.权重", SafetensorsDType.F32, [2]), Entry("é😀", SafetensorsDType.U8, [3]) };
        var metadata = new Dictionary<string, string> { ["concept"] = "\"van Gogh\" <style> & ümlaut\n😀" };
        var file = Safetensors.Read(Safetensors.Serialize(entries, metadata), "mem");
        Assert.True(file.Contains("unet.down.0.权重"));
        Assert.Equal(entries[1].Data.ToArray(), file["é😀"].Data.ToArray());
        Assert.Equal(metadata["concept"], file.Metadata["concept"]);
    }

    // ------------------------------------------------------------------------------------------ layout

    [Fact]
    public void HeaderIsPaddedWithSpacesToEightBytesAndDataIsAlignedToItemSize()
    {
        var entries = new[]
        {
            Entry("a.flag", SafetensorsDType.BOOL, [3]),
            Entry("b.half", SafetensorsDType.F16, [5]),
            Entry("c.long", SafetensorsDType.I64, [2]),
            Entry("d.float", SafetensorsDType.F32, [3]),
            Entry("e.byte", SafetensorsDType.U8, [1]),
        };
        var bytes = Safetensors.Serialize(entries);

        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, n);
        Assert.StartsWith("{", header);
        var json = header.TrimEnd(' ');
        Assert.EndsWith("}", json);
        Assert.True(header.Length - json.Length < 8, "at most 7 padding spaces");
        Assert.Equal(8 + n + entries.Sum(e => e.Data.Length), bytes.Length);

        var file = Safetensors.Read(bytes, "mem");
        foreach (var entry in file.Entries)
        {
            Assert.True(MemoryMarshal.TryGetArray(entry.Data, out var segment));
            Assert.Same(bytes, segment.Array); // the reader hands out slices, not copies
            Assert.True(segment.Offset % entry.DType.ItemSize() == 0,
                $"{entry.Name} starts at byte {segment.Offset}, not a multiple of {entry.DType.ItemSize()}");
        }
    }

    [Fact]
    public void WritesTheSameBytesAsTheReferenceWriterForAnF32Tensor()
    {
        // The reference implementation's tests serialize "attn0" = F32 [1,1,2,3] holding 0..5 and expect a
        // 72-byte header: the compact JSON below followed by 7 spaces, then the 24 data bytes.
        var data = Floats(0, 1, 2, 3, 4, 5);
        var json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
        var expected = Build(json + new string(' ', 72 - json.Length), data);

        var actual = Safetensors.Serialize([new SafetensorsEntry("attn0", SafetensorsDType.F32, [1, 1, 2, 3], data)]);

        Assert.Equal(72UL, BinaryPrimitives.ReadUInt64LittleEndian(actual));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void WritesTheSameBytesAsTheReferenceWriterWithoutTensors()
    {
        // Reference: no tensors → header "{}" + 6 spaces (N = 8); with metadata framework=pt → N = 40.
        Assert.Equal(Build("{}      ", []), Safetensors.Serialize([]));
        var withMetadata = "{\"__metadata__\":{\"framework\":\"pt\"}}";
        Assert.Equal(Build(withMetadata + new string(' ', 40 - withMetadata.Length), []),
            Safetensors.Serialize([], new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void OutputIsByteIdenticalWhateverTheOrderOfEntriesAndMetadata()
    {
        var entries = new[]
        {
            Entry("z", SafetensorsDType.F32, [4], 1), Entry("a", SafetensorsDType.F32, [2, 2], 2),
            Entry("m", SafetensorsDType.BF16, [3], 3), Entry("b", SafetensorsDType.I64, [], 4),
            Entry("b2", SafetensorsDType.BOOL, [0], 5), Entry("A", SafetensorsDType.U8, [7], 6),
        };
        var metadata = new[] { ("x", "1"), ("a", "2"), ("k", "3") };
        var reference = Safetensors.Serialize(entries, metadata.ToDictionary(p => p.Item1, p => p.Item2));

        var random = new Random(7);
        for (var trial = 0; trial < 5; trial++)
        {
            var shuffledEntries = entries.OrderBy(_ => random.Next()).ToArray();
            var shuffledMetadata = metadata.OrderBy(_ => random.Next()).ToDictionary(p => p.Item1, p => p.Item2);
            var path = Path.Combine(_dir, $"order{trial}.safetensors");
            Safetensors.Write(path, shuffledEntries, shuffledMetadata);
            Assert.Equal(reference, File.ReadAllBytes(path));
        }
    }

    // ------------------------------------------------------------------------------------------ hand-built files

    [Fact]
    public void ParsesAFileBuiltByHandFromTheSpecification()
    {
        // Keys in any order, fields in any order, tensors not in offset order, an unpadded header (N = odd),
        // whitespace in the JSON: all allowed by the format.
        var data = new byte[8 + 4 + 2];
        BinaryPrimitives.WriteInt64LittleEndian(data, 42);          // "step": I64 scalar at [0, 8)
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(8), -2.25f); // "w": F32 [1] at [8, 12)
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(12), (Half)0.5f); // "h": F16 [1,1] at [12, 14)
        var header = "{ \"w\": {\"shape\": [1], \"data_offsets\": [8, 12], \"dtype\": \"F32\"},\n" +
                     "  \"__metadata__\": {\"format\": \"pt\", \"note\": \"hand made\"},\n" +
                     "  \"h\": {\"dtype\": \"F16\", \"data_offsets\": [12, 14], \"shape\": [1, 1]},\n" +
                     "  \"step\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]} }";
        Assert.NotEqual(0, Encoding.UTF8.GetByteCount(header) % 8);

        var file = Safetensors.Read(Build(header, data), "hand.safetensors");

        Assert.Equal(new[] { "h", "step", "w" }, file.Names);
        Assert.Equal(42, BinaryPrimitives.ReadInt64LittleEndian(file["step"].Data.Span));
        Assert.Empty(file["step"].Shape);
        Assert.Equal(-2.25f, BinaryPrimitives.ReadSingleLittleEndian(file["w"].Data.Span));
        Assert.Equal(0.5f, (float)BinaryPrimitives.ReadHalfLittleEndian(file["h"].Data.Span));
        Assert.Equal(new long[] { 1, 1 }, file["h"].Shape);
        Assert.Equal("hand made", file.Metadata["note"]);
    }

    [Fact]
    public void AcceptsZeroLengthTensorsAnywhereInTheTiling()
    {
        var header = "{\"a\":" + Info("F32", "[1]", 0, 4) + ",\"e1\":" + Info("F32", "[0]", 4, 4) +
                     ",\"e0\":" + Info("I64", "[2,0]", 0, 0) + ",\"b\":" + Info("U8", "[2]", 4, 6) +
                     ",\"e2\":" + Info("BF16", "[0]", 6, 6) + "}";
        var file = Safetensors.Read(Build(header, new byte[6]), "mem");
        Assert.Equal(5, file.Count);
        Assert.Equal(0, file["e0"].Data.Length);
    }

    [Fact]
    public void AcceptsANullMetadataObjectAsNoMetadata()
    {
        var file = Safetensors.Read(Build("{\"__metadata__\":null}", []), "mem");
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void LookingUpAMissingTensorNamesIt()
    {
        var file = Safetensors.Read(Safetensors.Serialize([Entry("a", SafetensorsDType.F32, [1])]), "model.st");
        var e = Assert.Throws<KeyNotFoundException>(() => file["b"]);
        Assert.Contains("'b'", e.Message);
        Assert.Contains("model.st", e.Message);
        Assert.False(file.TryGet("b", out _));
    }

    // ------------------------------------------------------------------------------------------ rejection

    [Fact]
    public void RejectsTruncatedFilesWhereverTheyAreCut()
    {
        var bytes = Safetensors.Serialize(
            [Entry("a", SafetensorsDType.F32, [4], 1), Entry("b", SafetensorsDType.I64, [2], 2)],
            new Dictionary<string, string> { ["k"] = "v" });
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var cuts = new[] { 0, 1, 7, 8, 9, 8 + n / 2, 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 16, bytes.Length - 1 };

        foreach (var cut in cuts)
            Rejects(bytes[..cut]);
        Rejects(bytes[..7], "7 bytes", "shorter than");
        Rejects(bytes[..(8 + n / 2)], "header length", "truncated");
        Rejects(bytes[..(bytes.Length - 1)], "past the end");
        Assert.Equal(2, Safetensors.Read(bytes, "whole").Count); // the uncut file is fine
    }

    [Fact]
    public void RejectsAppendedBytesThatBelongToNoTensor()
    {
        var bytes = Safetensors.Serialize([Entry("a", SafetensorsDType.F32, [2])]);
        Rejects([.. bytes, 0, 0, 0, 0], "cover only the first 8");
    }

    [Fact]
    public void RejectsCorruptedHeaderLengths()
    {
        var good = Build("{\"a\":" + Info("U8", "[4]", 0, 4) + "}", [1, 2, 3, 4]);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(good);

        byte[] WithLength(ulong length)
        {
            var copy = (byte[])good.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(copy, length);
            return copy;
        }

        Rejects(WithLength(100_000_001), "100000000");
        Rejects(WithLength(ulong.MaxValue), "over the");
        Rejects(WithLength((ulong)good.Length), "truncated");   // longer than what follows
        Rejects(WithLength(n - 1), "not valid JSON");            // cuts the closing brace off
        Rejects(WithLength(n + 1));                                // swallows a data byte into the header
        Rejects(WithLength(0), "does not begin with '{'");
    }

    [Fact]
    public void RejectsHeadersThatAreNotAJsonObject()
    {
        Rejects(Build("{\"a\":" + Info("U8", "[1]", 0, 1), [0]), "not valid JSON");      // unclosed
        Rejects(Build("{\"a\":" + Info("U8", "[1]", 0, 1) + ",}", [0]), "not valid JSON"); // trailing comma
        Rejects(Build("{} // comment", []), "not valid JSON");
        Rejects(Build("{}\0\0\0\0\0\0", []), "not valid JSON");                            // NUL padding
        Rejects(Build("[1, 2]  ", []), "does not begin with '{'");
        Rejects(Build(" {}     ", []), "does not begin with '{'");
        Rejects(Build("\uFEFF{}", []), "does not begin with '{'");

        var invalidUtf8 = Build("{\"a?\":" + Info("U8", "[1]", 0, 1) + "}", [0]);
        invalidUtf8[8 + 3] = 0xFF;
        Rejects(invalidUtf8, "UTF-8");
    }

    [Fact]
    public void RejectsOverlappingSpans()
    {
        var header = "{\"a\":" + Info("F32", "[2]", 0, 8) + ",\"b\":" + Info("F32", "[2]", 4, 12) + "}";
        Rejects(Build(header, new byte[12]), "overlaps", "'a'", "'b'");

        var inside = "{\"a\":" + Info("F32", "[2]", 0, 8) + ",\"z\":" + Info("F32", "[0]", 4, 4) + "}";
        Rejects(Build(inside, new byte[8]), "overlaps");

        var twice = "{\"a\":" + Info("F32", "[2]", 0, 8) + ",\"b\":" + Info("F32", "[2]", 0, 8) + "}";
        Rejects(Build(twice, new byte[8]), "overlaps");
    }

    [Fact]
    public void RejectsGapsBetweenSpans()
    {
        var middle = "{\"a\":" + Info("F32", "[2]", 0, 8) + ",\"b\":" + Info("F32", "[2]", 12, 20) + "}";
        Rejects(Build(middle, new byte[20]), "gap", "ends at 8", "begins at 12");

        var front = "{\"a\":" + Info("F32", "[2]", 4, 12) + "}";
        Rejects(Build(front, new byte[12]), "gap", "begins at 4");

        var end = "{\"a\":" + Info("F32", "[2]", 0, 8) + "}";
        Rejects(Build(end, new byte[9]), "9 bytes", "cover only the first 8");
    }

    [Fact]
    public void RejectsSpansOutsideTheDataBuffer()
    {
        Rejects(Build("{\"a\":" + Info("F32", "[2]", 0, 8) + "}", new byte[4]), "past the end", "4-byte");
        Rejects(Build("{\"a\":" + Info("U8", "[0]", 9, 9) + "}", new byte[8]), "past the end");
    }

    [Fact]
    public void RejectsAByteCountThatDisagreesWithShapeAndDType()
    {
        Rejects(Build("{\"a\":" + Info("F32", "[3]", 0, 8) + "}", new byte[8]), "needs 12 bytes", "span 8");
        Rejects(Build("{\"a\":" + Info("F16", "[]", 0, 4) + "}", new byte[4]), "needs 2 bytes");
        Rejects(Build("{\"a\":" + Info("I64", "[0]", 0, 8) + "}", new byte[8]), "needs 0 bytes");
        Rejects(Build("{\"a\":" + Info("F64", "[4294967296,4294967296]", 0, 8) + "}", new byte[8]), "overflows");
    }

    [Fact]
    public void RejectsUnknownDTypes()
    {
        Rejects(Build("{\"a\":" + Info("F128", "[1]", 0, 16) + "}", new byte[16]), "unknown dtype 'F128'");
        Rejects(Build("{\"a\":" + Info("f32", "[1]", 0, 4) + "}", new byte[4]), "unknown dtype 'f32'");
        Rejects(Build("{\"a\":" + Info("11", "[1]", 0, 4) + "}", new byte[4]), "unknown dtype '11'");
        Rejects(Build("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "not a string");
    }

    [Fact]
    public void RejectsDuplicateKeys()
    {
        var tensor = "{\"a\":" + Info("U8", "[1]", 0, 1) + ",\"a\":" + Info("U8", "[1]", 1, 2) + "}";
        Rejects(Build(tensor, new byte[2]), "'a' twice");

        var field = "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        Rejects(Build(field, new byte[1]), "'dtype' twice");

        var metadataKey = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}";
        Rejects(Build(metadataKey, []), "'k' appears twice");

        var metadataObject = "{\"__metadata__\":{},\"__metadata__\":{}}";
        Rejects(Build(metadataObject, []), "'__metadata__' twice");
    }

    [Fact]
    public void RejectsMalformedShapesAndOffsets()
    {
        Rejects(Build("{\"a\":" + Info("U8", "[-1]", 0, 0) + "}", []), "shape holds -1");
        Rejects(Build("{\"a\":" + Info("U8", "[1.5]", 0, 1) + "}", [0]), "shape holds 1.5");
        Rejects(Build("{\"a\":" + Info("U8", "[1e0]", 0, 1) + "}", [0]), "shape holds 1e0");
        Rejects(Build("{\"a\":" + Info("U8", "[\"1\"]", 0, 1) + "}", [0]), "not a non-negative integer");
        Rejects(Build("{\"a\":" + Info("U8", "3", 0, 3) + "}", [0, 0, 0]), "shape is a JSON number");
        Rejects(Build("{\"a\":" + Info("U8", "[99999999999999999999]", 0, 1) + "}", [0]), "shape holds");

        Rejects(Build("{\"a\":" + Info("U8", "[1]", 1, 0) + "}", [0]), "end before they begin");
        Rejects(Build("{\"a\":" + Info("U8", "[1]", -1, 0) + "}", [0]), "data_offsets holds -1");
        Rejects(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", [0]), "not the two");
        Rejects(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,1]}}", [0]), "not the two");
        Rejects(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", [0]), "no 'data_offsets'");
        Rejects(Build("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", [0]), "no 'dtype'");
        Rejects(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", [0]), "unexpected field 'x'");
        Rejects(Build("{\"a\":[1]}", [0]), "not an object");
    }

    [Fact]
    public void RejectsNonStringMetadata()
    {
        Rejects(Build("{\"__metadata__\":{\"epoch\":3}}", []), "'epoch'", "must be strings");
        Rejects(Build("{\"__metadata__\":{\"nested\":{\"a\":\"b\"}}}", []), "'nested'");
        Rejects(Build("{\"__metadata__\":[\"a\"]}", []), "'__metadata__' is a JSON array");
    }

    [Fact]
    public void ReadingAMissingPathSaysSo()
    {
        var path = Path.Combine(_dir, "absent.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => Safetensors.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ReadingAFileOnDiskNamesItInErrors()
    {
        var path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    // ------------------------------------------------------------------------------------------ writing

    [Fact]
    public void WriteRejectsInvalidEntriesWithAClearMessage()
    {
        var ok = Entry("ok", SafetensorsDType.F32, [2]);
        Assert.Contains("needs 12 bytes but its data has 8",
            Assert.Throws<ArgumentException>(() => Safetensors.Serialize(
                [new SafetensorsEntry("w", SafetensorsDType.F32, [3], new byte[8])])).Message);
        Assert.Contains("'ok'", Assert.Throws<ArgumentException>(() => Safetensors.Serialize([ok, ok])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => Safetensors.Serialize(
            [new SafetensorsEntry("__metadata__", SafetensorsDType.U8, [0], Array.Empty<byte>())])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => Safetensors.Serialize(
            [new SafetensorsEntry("n", SafetensorsDType.U8, [-1], Array.Empty<byte>())])).Message);
        Assert.Contains("undefined dtype", Assert.Throws<ArgumentException>(() => Safetensors.Serialize(
            [new SafetensorsEntry("d", (SafetensorsDType)99, [0], Array.Empty<byte>())])).Message);
        Assert.Contains("lone surrogate", Assert.Throws<ArgumentException>(() => Safetensors.Serialize(
            [new SafetensorsEntry("bad\uD800", SafetensorsDType.U8, [0], Array.Empty<byte>())])).Message);
        Assert.Throws<ArgumentException>(() => Safetensors.Serialize([ok],
            new Dictionary<string, string> { ["k"] = null! }));
    }

    [Fact]
    public void AFailedWriteLeavesNoFileAndNoTemporaryFile()
    {
        var path = Path.Combine(_dir, "new.safetensors");
        var bad = new SafetensorsEntry("w", SafetensorsDType.F32, [3], new byte[8]);

        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [Entry("fine", SafetensorsDType.U8, [1]), bad]));

        Assert.Empty(FilesInDir());
    }

    [Fact]
    public void AFailedWriteDoesNotClobberAnExistingFile()
    {
        var path = Path.Combine(_dir, "model.safetensors");
        Safetensors.Write(path, [Entry("v1", SafetensorsDType.F32, [4])]);
        var before = File.ReadAllBytes(path);

        var bad = new SafetensorsEntry("w", SafetensorsDType.BF16, [2, 2], new byte[7]);
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [Entry("v2", SafetensorsDType.F32, [4]), bad]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.safetensors" }, FilesInDir());
    }

    [Fact]
    public void AWriteThatFailsAtTheRenameRemovesItsTemporaryFile()
    {
        // The target is a folder, so the temporary file is written in full and the final rename fails.
        var target = Path.Combine(_dir, "occupied");
        Directory.CreateDirectory(target);

        Assert.ThrowsAny<IOException>(() => Safetensors.Write(target, [Entry("a", SafetensorsDType.F32, [2])]));

        Assert.Empty(FilesInDir());
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public void ASuccessfulWriteReplacesTheFileAndLeavesNothingElse()
    {
        var path = Path.Combine(_dir, "model.safetensors");
        Safetensors.Write(path, [Entry("v1", SafetensorsDType.F32, [4])]);
        Safetensors.Write(path, [Entry("v2", SafetensorsDType.I32, [2])]);

        Assert.Equal(new[] { "v2" }, Safetensors.Read(path).Names);
        Assert.Equal(new[] { "model.safetensors" }, FilesInDir());
    }

    [Fact]
    public void WriteIntoAMissingFolderFailsWithoutCreatingIt()
    {
        var path = Path.Combine(_dir, "no-such-folder", "m.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => Safetensors.Write(path, []));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }
}
