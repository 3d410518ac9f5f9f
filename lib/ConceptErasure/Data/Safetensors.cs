// Safetensors.cs — reading and writing the safetensors checkpoint format at the byte level.
//
// A safetensors file is: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON that map each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets counted from the first byte after
// the header) plus an optional "__metadata__" object of string → string; then the data buffer, in which the
// tensors' byte spans lie back to back and cover it exactly. This file knows nothing about tensors beyond
// their bytes: callers hand it (name, dtype, shape, raw little-endian bytes) and get the same back, so the
// tensor library stays elsewhere (Data/Serialization.cs). Reading checks everything the format promises and reports the first broken
// promise as one InvalidDataException naming the file; writing is deterministic (independent of the order in
// which entries and metadata are given) and atomic (a temporary file in the same folder, then a rename).
//
// Reference: the safetensors format specification, https://github.com/huggingface/safetensors (README,
// "Format"), and the layout choices of its reference writer: compact JSON with the keys in the order
// dtype, shape, data_offsets; "__metadata__" first; header padded with spaces (0x20) to a multiple of 8 bytes;
// tensors ordered by decreasing dtype alignment, then by name, so every tensor's data starts at a multiple of
// its item size.
using ConceptErasure.Data;
using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ConceptErasure.Data;

/// <summary>
/// The element types a safetensors file can name, spelled as in the file. The declaration order is the
/// format's alignment order (smallest first) and is significant: the writer lays out tensors by descending
/// order of this enum, then by name, as the reference writer does.
/// </summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>Item sizes and file spellings of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, SafetensorsDType> ByName =
        Enum.GetValues<SafetensorsDType>().ToDictionary(d => d.ToString(), StringComparer.Ordinal);

    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>The dtype's spelling in a safetensors header, e.g. "BF16".</summary>
    public static string FileName(this SafetensorsDType dtype) =>
        Enum.IsDefined(dtype)
            ? dtype.ToString()
            : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype.");

    /// <summary>Parses a header spelling exactly (case-sensitive; numbers are not accepted).</summary>
    public static bool TryParse(string? text, out SafetensorsDType dtype) =>
        ByName.TryGetValue(text ?? "", out dtype);
}

/// <summary>
/// One tensor as raw bytes: <paramref name="Data"/> holds the elements in row-major (C) order, little-endian.
/// An empty <paramref name="Shape"/> is a 0-d scalar (one element); a zero dimension makes an empty tensor.
/// </summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => checked(n * d));

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {DType}[{string.Join(", ", Shape)}] ({Data.Length} bytes)");
}

/// <summary>The contents of a safetensors file: its tensors (ordered by name) and its metadata.</summary>
public sealed class SafetensorsFile
{
    private readonly Dictionary<string, SafetensorsEntry> _byName;

    internal SafetensorsFile(string source, IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string> metadata)
    {
        Source = source;
        Entries = entries;
        Metadata = metadata;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The path or name the file was read from, as used in error messages.</summary>
    public string Source { get; }

    /// <summary>All tensors, ordered by name (ordinal, i.e. by UTF-8 bytes).</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The "__metadata__" object; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public int Count => Entries.Count;

    public IEnumerable<string> Names => Entries.Select(e => e.Name);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, out SafetensorsEntry entry) => _byName.TryGetValue(name, out entry!);

    /// <summary>The tensor called <paramref name="name"/>; a KeyNotFoundException names the file otherwise.</summary>
    public SafetensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException(string.Create(CultureInfo.InvariantCulture,
                $"{Source}: no tensor named '{name}' (the file has {Count} tensors)."));
}

/// <summary>Reads and writes safetensors files as raw bytes.</summary>
public static class Safetensors
{
    /// <summary>The largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The key of the optional string → string metadata object in the header.</summary>
    public const string MetadataKey = "__metadata__";

    private const int PrefixBytes = 8;
    private const int HeaderAlignment = 8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ------------------------------------------------------------------------------------------------ writing

    /// <summary>
    /// Writes <paramref name="entries"/> (and optional metadata) to <paramref name="path"/> atomically: the
    /// bytes go to a temporary file in the same folder, which then replaces <paramref name="path"/> by rename.
    /// Invalid input throws ArgumentException before anything is created; on any failure no temporary file is
    /// left behind and an existing file at <paramref name="path"/> is untouched.
    /// </summary>
    public static void Write(string path, IEnumerable<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        var layout = Layout.Prepare(entries, metadata);

        var folder = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write '{fullPath}': the folder '{folder}' does not exist.");

        var temp = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture,
            $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp"));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                       bufferSize: 1 << 20))
            {
                layout.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The exact bytes <see cref="Write"/> would put in a file (deterministic, same validation).</summary>
    public static byte[] Serialize(IEnumerable<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var layout = Layout.Prepare(entries, metadata);
        if (layout.TotalBytes > Array.MaxLength)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The file would be {layout.TotalBytes} bytes, too large for one array; use Write to stream it to disk."),
                nameof(entries));
        using var memory = new MemoryStream((int)layout.TotalBytes);
        layout.WriteTo(memory);
        return memory.ToArray();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Validated entries in file order, with the padded header that describes them.</summary>
    private sealed class Layout
    {
        private readonly IReadOnlyList<SafetensorsEntry> _ordered;
        private readonly byte[] _header;

        private Layout(IReadOnlyList<SafetensorsEntry> ordered, byte[] header, long dataBytes)
        {
            _ordered = ordered;
            _header = header;
            TotalBytes = PrefixBytes + header.Length + dataBytes;
        }

        public long TotalBytes { get; }

        public static Layout Prepare(IEnumerable<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
        {
            ArgumentNullException.ThrowIfNull(entries);
            var list = entries.ToList();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var utf8Names = new Dictionary<SafetensorsEntry, byte[]>(ReferenceEqualityComparer.Instance);
            foreach (var entry in list)
            {
                CheckEntry(entry);
                if (!names.Add(entry.Name))
                    throw new ArgumentException($"Two entries are named '{entry.Name}'; tensor names must be unique.",
                        nameof(entries));
                utf8Names[entry] = EncodeOrThrow(entry.Name, $"tensor name '{entry.Name}'", nameof(entries));
            }

            // Descending alignment, then name by UTF-8 bytes: every tensor starts at a multiple of its item
            // size (the data buffer itself starts at a multiple of 8), and the order depends on nothing else.
            var ordered = list
                .OrderByDescending(e => (int)e.DType)
                .ThenBy(e => utf8Names[e], Utf8Order.Instance)
                .ToList();

            var metadataPairs = new List<(byte[] Key, string KeyText, string Value)>();
            if (metadata is not null)
            {
                foreach (var (key, value) in metadata)
                {
                    if (key is null || value is null)
                        throw new ArgumentException($"Metadata entry '{key}' has a null key or value.", nameof(metadata));
                    EncodeOrThrow(value, $"metadata value of '{key}'", nameof(metadata));
                    metadataPairs.Add((EncodeOrThrow(key, $"metadata key '{key}'", nameof(metadata)), key, value));
                }
                metadataPairs.Sort((a, b) => Utf8Order.Instance.Compare(a.Key, b.Key));
            }

            var json = new MemoryStream();
            long offset = 0;
            using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions
                   {
                       Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                       Indented = false,
                   }))
            {
                writer.WriteStartObject();
                if (metadataPairs.Count > 0)
                {
                    writer.WriteStartObject(MetadataKey);
                    foreach (var (_, key, value) in metadataPairs)
                        writer.WriteString(key, value);
                    writer.WriteEndObject();
                }
                foreach (var entry in ordered)
                {
                    writer.WriteStartObject(entry.Name);
                    writer.WriteString("dtype", entry.DType.FileName());
                    writer.WriteStartArray("shape");
                    foreach (var dim in entry.Shape)
                        writer.WriteNumberValue(dim);
                    writer.WriteEndArray();
                    writer.WriteStartArray("data_offsets");
                    writer.WriteNumberValue(offset);
                    writer.WriteNumberValue(offset + entry.Data.Length);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    offset += entry.Data.Length;
                }
                writer.WriteEndObject();
            }

            var padding = (int)((HeaderAlignment - json.Length % HeaderAlignment) % HeaderAlignment);
            for (var i = 0; i < padding; i++)
                json.WriteByte((byte)' ');
            if (json.Length > MaxHeaderBytes)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"The header would be {json.Length} bytes, over the {MaxHeaderBytes}-byte limit readers enforce."),
                    nameof(entries));
            return new Layout(ordered, json.ToArray(), offset);
        }

        public void WriteTo(Stream stream)
        {
            Span<byte> prefix = stackalloc byte[PrefixBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)_header.Length);
            stream.Write(prefix);
            stream.Write(_header);
            foreach (var entry in _ordered)
                stream.Write(entry.Data.Span);
        }

        private static void CheckEntry(SafetensorsEntry? entry)
        {
            if (entry is null)
                throw new ArgumentException("An entry is null.", "entries");
            if (entry.Name is null)
                throw new ArgumentException("An entry has a null name.", "entries");
            if (entry.Name == MetadataKey)
                throw new ArgumentException($"'{MetadataKey}' is reserved for metadata and cannot name a tensor.", "entries");
            if (!Enum.IsDefined(entry.DType))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Entry '{entry.Name}' has an undefined dtype ({(int)entry.DType})."), "entries");
            if (entry.Shape is null)
                throw new ArgumentException($"Entry '{entry.Name}' has a null shape.", "entries");
            if (entry.Shape.Any(d => d < 0))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Entry '{entry.Name}' has a negative dimension in shape [{string.Join(", ", entry.Shape)}]."), "entries");
            if (!TryByteCount(entry.DType, entry.Shape, out var expected))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Entry '{entry.Name}': shape [{string.Join(", ", entry.Shape)}] overflows a 64-bit byte count."), "entries");
            if (expected != entry.Data.Length)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Entry '{entry.Name}': {entry.DType}[{string.Join(", ", entry.Shape)}] needs {expected} bytes but its data has {entry.Data.Length}."),
                    "entries");
        }

        private static byte[] EncodeOrThrow(string text, string what, string paramName)
        {
            try { return StrictUtf8.GetBytes(text); }
            catch (EncoderFallbackException)
            {
                throw new ArgumentException($"The {what} is not valid Unicode (it contains a lone surrogate).", paramName);
            }
        }
    }

    /// <summary>Orders UTF-8 byte strings bytewise (the order of Unicode code points).</summary>
    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private static bool TryByteCount(SafetensorsDType dtype, IEnumerable<long> shape, out long bytes)
    {
        try
        {
            bytes = dtype.ItemSize();
            foreach (var dim in shape)
                bytes = checked(bytes * dim);
            return true;
        }
        catch (OverflowException)
        {
            bytes = 0;
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------ reading

    /// <summary>Reads and fully validates the file at <paramref name="path"/>.</summary>
    public static SafetensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"{path}: no such safetensors file.", path);
        if (info.Length > Array.MaxLength)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: the file is {info.Length} bytes; this reader holds a whole file in one array, at most {Array.MaxLength} bytes."));
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Parses and fully validates a whole safetensors file held in memory. The returned entries' Data are
    /// slices of <paramref name="bytes"/> (no copy). <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static SafetensorsFile Read(ReadOnlyMemory<byte> bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var span = bytes.Span;
        if (span.Length < PrefixBytes)
            throw Bad(source, $"the file is {span.Length} bytes, shorter than the 8-byte header length that starts every safetensors file");

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(span);
        if (headerLength > MaxHeaderBytes)
            throw Bad(source, $"the header length says {headerLength} bytes, over the {MaxHeaderBytes}-byte limit (corrupt length or not a safetensors file)");
        if ((long)headerLength > span.Length - PrefixBytes)
            throw Bad(source, $"the header length says {headerLength} bytes but only {span.Length - PrefixBytes} follow the length (truncated file?)");
        var n = (int)headerLength;
        var header = span.Slice(PrefixBytes, n);
        long dataStart = PrefixBytes + n;
        long dataLength = span.Length - dataStart;

        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Bad(source, $"the header is not valid UTF-8");
        if (n == 0 || header[0] != (byte)'{')
            throw Bad(source, $"the header does not begin with '{{' (the format requires a JSON object starting at its first byte)");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.Slice(PrefixBytes, n), new JsonDocumentOptions
            {
                AllowTrailingCommas = false,
                CommentHandling = JsonCommentHandling.Disallow,
            });
        }
        catch (JsonException e)
        {
            throw Bad(source, $"the header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(source, $"the header is a JSON {Kind(root)}, not an object");

            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var spans = new List<(string Name, long Begin, long End)>();
            var entries = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var sawMetadata = false;

            foreach (var property in root.EnumerateObject())
            {
                var name = property.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                        throw Bad(source, $"the header has '{MetadataKey}' twice");
                    sawMetadata = true;
                    ReadMetadata(source, property.Value, metadata);
                    continue;
                }
                if (!seen.Add(name))
                    throw Bad(source, $"the header names tensor '{name}' twice (duplicate keys are not allowed)");

                var (dtype, shape, begin, end) = ReadTensorInfo(source, name, property.Value);
                if (!TryByteCount(dtype, shape, out var expected))
                    throw Bad(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] overflows a 64-bit byte count");
                if (end - begin != expected)
                    throw Bad(source, $"tensor '{name}': {dtype}[{string.Join(", ", shape)}] needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}");
                if (end > dataLength)
                    throw Bad(source, $"tensor '{name}': data_offsets [{begin}, {end}] reach past the end of the {dataLength}-byte data buffer (truncated file?)");

                spans.Add((name, begin, end));
                entries.Add(new SafetensorsEntry(name, dtype, shape,
                    bytes.Slice((int)(dataStart + begin), (int)(end - begin))));
            }

            CheckTiling(source, spans, dataLength);

            var byName = entries.OrderBy(e => Encoding.UTF8.GetBytes(e.Name), Utf8Order.Instance).ToList();
            return new SafetensorsFile(source, byName.AsReadOnly(), new ReadOnlyDictionary<string, string>(metadata));
        }
    }

    private static void ReadMetadata(string source, JsonElement value, SortedDictionary<string, string> into)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return; // the reference implementation reads a null "__metadata__" as no metadata
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad(source, $"'{MetadataKey}' is a JSON {Kind(value)}, not an object of strings");
        foreach (var pair in value.EnumerateObject())
        {
            if (pair.Value.ValueKind != JsonValueKind.String)
                throw Bad(source, $"metadata value of '{pair.Name}' is a JSON {Kind(pair.Value)}; metadata values must be strings");
            if (!into.TryAdd(pair.Name, pair.Value.GetString()!))
                throw Bad(source, $"metadata key '{pair.Name}' appears twice");
        }
    }

    private static (SafetensorsDType DType, long[] Shape, long Begin, long End) ReadTensorInfo(
        string source, string name, JsonElement info)
    {
        if (info.ValueKind != JsonValueKind.Object)
            throw Bad(source, $"tensor '{name}' is described by a JSON {Kind(info)}, not an object");

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in info.EnumerateObject())
        {
            ref JsonElement? slot = ref dtypeElement;
            switch (field.Name)
            {
                case "dtype": slot = ref dtypeElement; break;
                case "shape": slot = ref shapeElement; break;
                case "data_offsets": slot = ref offsetsElement; break;
                default:
                    throw Bad(source, $"tensor '{name}' has an unexpected field '{field.Name}' (allowed: dtype, shape, data_offsets)");
            }
            if (slot is not null)
                throw Bad(source, $"tensor '{name}' has field '{field.Name}' twice");
            slot = field.Value;
        }
        if (dtypeElement is not { } dtypeValue)
            throw Bad(source, $"tensor '{name}' has no 'dtype'");
        if (shapeElement is not { } shapeValue)
            throw Bad(source, $"tensor '{name}' has no 'shape'");
        if (offsetsElement is not { } offsetsValue)
            throw Bad(source, $"tensor '{name}' has no 'data_offsets'");

        if (dtypeValue.ValueKind != JsonValueKind.String)
            throw Bad(source, $"tensor '{name}': dtype is a JSON {Kind(dtypeValue)}, not a string");
        var dtypeText = dtypeValue.GetString();
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
            throw Bad(source, $"tensor '{name}': unknown dtype '{dtypeText}' (known: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");

        var shape = ReadNonNegativeIntegers(source, name, "shape", shapeValue);
        var offsets = ReadNonNegativeIntegers(source, name, "data_offsets", offsetsValue);
        if (offsets.Length != 2)
            throw Bad(source, $"tensor '{name}': data_offsets has {offsets.Length} numbers, not the two [begin, end]");
        if (offsets[0] > offsets[1])
            throw Bad(source, $"tensor '{name}': data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        return (dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadNonNegativeIntegers(string source, string name, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw Bad(source, $"tensor '{name}': {field} is a JSON {Kind(value)}, not an array of non-negative integers");
        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw Bad(source, $"tensor '{name}': {field} holds {item.GetRawText()}, not a non-negative integer");
            result[i++] = number;
        }
        return result;
    }

    /// <summary>The spans must tile [0, dataLength) exactly: no overlap, no gap, nothing left over.</summary>
    private static void CheckTiling(string source, List<(string Name, long Begin, long End)> spans, long dataLength)
    {
        spans.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
            : a.End != b.End ? a.End.CompareTo(b.End) : string.CompareOrdinal(a.Name, b.Name));
        long covered = 0;
        string? previous = null;
        foreach (var (name, begin, end) in spans)
        {
            if (begin < covered)
                throw Bad(source, $"tensor '{name}' (bytes [{begin}, {end}]) overlaps tensor '{previous}', which ends at {covered}");
            if (begin > covered)
                throw Bad(source, previous is null
                    ? (FormattableString)$"the data buffer has a gap: tensor '{name}' begins at {begin} but the buffer starts at 0"
                    : (FormattableString)$"the data buffer has a gap: tensor '{previous}' ends at {covered} but tensor '{name}' begins at {begin}");
            covered = end;
            previous = name;
        }
        if (covered != dataLength)
            throw Bad(source, $"the data buffer is {dataLength} bytes but the tensors cover only the first {covered}; the rest belongs to no tensor");
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };

    private static InvalidDataException Bad(string source, FormattableString problem, Exception? inner = null) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{source}: not a valid safetensors file: ") +
            FormattableString.Invariant(problem) + ".", inner);
}
