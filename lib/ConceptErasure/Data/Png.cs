// A strict PNG decoder and a small PNG encoder on System.IO.Compression alone, written for the emoji sprite sheets
// (8-bit RGBA) and the workbook's figures. Reference: W3C "Portable Network Graphics (PNG) Specification (Third
// Edition)", 2025 — file signature (§5.2), chunk layout and CRC-32 (§5.3, Annex D), IHDR/PLTE/IDAT/IEND/tRNS
// (§11), filter types 0–4 (§9), colour types (§6.1). Decoding supports bit depth 8 for all five colour types
// (grey, RGB, palette with tRNS, grey+alpha, RGBA), non-interlaced only; everything is converted to RGBA. Malformed
// files are rejected with one PngFormatException naming the source and the problem, never returned as pixels.
using System.Buffers.Binary;
using System.IO.Compression;

namespace ConceptErasure.Data;

/// <summary>The input is not a PNG this decoder accepts; the message names the file and the problem.</summary>
public sealed class PngFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>PNG colour types (IHDR byte 9).</summary>
public enum PngColorType : byte { Grey = 0, Rgb = 2, Palette = 3, GreyAlpha = 4, Rgba = 6 }

/// <summary>PNG filter types for filter method 0 (the byte in front of each scanline).</summary>
public enum PngFilter : byte { None = 0, Sub = 1, Up = 2, Average = 3, Paeth = 4 }

/// <summary>How <see cref="Png.Encode"/> writes an image.</summary>
public sealed record PngEncoderOptions(
    PngColorType ColorType = PngColorType.Rgba,                 // Rgba or Rgb (Rgb requires an opaque image)
    PngFilter? Filter = null,                                   // null: choose per row (minimum sum of absolute differences)
    CompressionLevel Compression = CompressionLevel.Optimal,    // zlib level of the IDAT stream
    int MaxIdatChunk = 1 << 20);                                // IDAT data is split into chunks of at most this many bytes

/// <summary>CRC-32 as used by PNG (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320, reflected), table driven.</summary>
internal static class Crc32
{
    // Table[k][n]: CRC of byte n followed by k zero bytes, for slicing-by-8 (eight bytes per step).
    private static readonly uint[][] Table = BuildTables();

    private static uint[][] BuildTables()
    {
        var t = new uint[8][];
        for (int k = 0; k < 8; k++) t[k] = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][n] = c;
        }
        for (int n = 0; n < 256; n++)
            for (int k = 1; k < 8; k++)
                t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFF];
        return t;
    }

    /// <summary>Continues a running CRC (start with 0) over more bytes.</summary>
    public static unsafe uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        uint[] t0 = Table[0], t1 = Table[1], t2 = Table[2], t3 = Table[3], t4 = Table[4], t5 = Table[5], t6 = Table[6], t7 = Table[7];
        fixed (byte* start = data)
        {
            byte* p = start, end = start + data.Length;
            for (; end - p >= 8; p += 8)
            {
                uint lo = c ^ (uint)(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
                uint hi = (uint)(p[4] | p[5] << 8 | p[6] << 16 | p[7] << 24);
                c = t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24]
                  ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24];
            }
            for (; p < end; p++)
                c = t0[(c ^ *p) & 0xFF] ^ (c >> 8);
        }
        return ~c;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);
}

/// <summary>PNG decoding and encoding.</summary>
public static class Png
{
    /// <summary>The 8 bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Images with more pixels than this are refused (a guard against absurd headers).</summary>
    public const long MaxPixels = 1L << 26;

    private const uint IHDR = 0x49484452, PLTE = 0x504C5445, IDAT = 0x49444154, IEND = 0x49454E44, TRNS = 0x74524E53;

    private sealed record Header(int Width, int Height, int BitDepth, PngColorType ColorType, int Interlace)
    {
        public int Channels => ColorType switch
        {
            PngColorType.Grey or PngColorType.Palette => 1,
            PngColorType.GreyAlpha => 2,
            PngColorType.Rgb => 3,
            _ => 4,
        };
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>Reads and decodes a PNG file.</summary>
    public static RgbaImage Load(string path) => Decode(File.ReadAllBytes(path), path);

    /// <summary>Decodes PNG bytes to RGBA. <paramref name="source"/> names the input in error messages.</summary>
    public static RgbaImage Decode(ReadOnlySpan<byte> png, string source = "(PNG in memory)")
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw new PngFormatException($"{source}: not a PNG file (the 8-byte PNG signature is missing or wrong).");

        Header? header = null;
        byte[]? palette = null;      // RGB triples
        byte[]? trns = null;         // raw tRNS payload
        var idat = new List<Range>();
        bool idatClosed = false, ended = false;
        int pos = 8;
        while (pos < png.Length)
        {
            if (png.Length - pos < 12)
                throw new PngFormatException($"{source}: truncated chunk at byte {pos} ({png.Length - pos} bytes left, a chunk needs at least 12).");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 4)..]);
            string name = ChunkName(png.Slice(pos + 4, 4));
            if (!IsChunkType(png.Slice(pos + 4, 4)))
                throw new PngFormatException($"{source}: invalid chunk type bytes at byte {pos + 4} (not four ASCII letters).");
            if (length > int.MaxValue || pos + 12L + length > png.Length)
                throw new PngFormatException($"{source}: chunk {name} at byte {pos} declares {length} data bytes but only {Math.Max(0, png.Length - pos - 12)} remain (truncated file).");
            var data = png.Slice(pos + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            uint actual = Crc32.Compute(png.Slice(pos + 4, 4 + (int)length));
            if (stored != actual)
                throw new PngFormatException($"{source}: CRC mismatch in chunk {name} at byte {pos} (stored 0x{stored:X8}, computed 0x{actual:X8}); the file is corrupt.");

            if (header is null && type != IHDR)
                throw new PngFormatException($"{source}: the first chunk is {name}; a PNG must start with IHDR (missing IHDR).");
            if (idat.Count > 0 && type != IDAT) idatClosed = true;

            switch (type)
            {
                case IHDR:
                    if (header is not null) throw new PngFormatException($"{source}: more than one IHDR chunk.");
                    header = ParseHeader(data, source);
                    break;
                case PLTE:
                    if (idat.Count > 0) throw new PngFormatException($"{source}: PLTE after IDAT.");
                    if (palette is not null) throw new PngFormatException($"{source}: more than one PLTE chunk.");
                    if (header!.ColorType is PngColorType.Grey or PngColorType.GreyAlpha)
                        throw new PngFormatException($"{source}: PLTE is not allowed for colour type {header.ColorType}.");
                    if (length == 0 || length % 3 != 0 || length / 3 > 256)
                        throw new PngFormatException($"{source}: PLTE has {length} bytes; it must hold 1 to 256 RGB entries (a multiple of 3 bytes).");
                    palette = data.ToArray();
                    break;
                case TRNS:
                    if (idat.Count > 0) throw new PngFormatException($"{source}: tRNS after IDAT.");
                    trns = ParseTransparency(data, header!, palette, source);
                    break;
                case IDAT:
                    if (idatClosed) throw new PngFormatException($"{source}: IDAT chunks are not consecutive.");
                    idat.Add(new Range(pos + 8, pos + 8 + (int)length));
                    break;
                case IEND:
                    if (length != 0) throw new PngFormatException($"{source}: IEND must be empty but declares {length} bytes.");
                    ended = true;
                    break;
                default:
                    if ((type & 0x20000000) == 0) // upper-case first letter: critical
                        throw new PngFormatException($"{source}: unknown critical chunk {name}; cannot decode safely.");
                    break; // ancillary chunks (text, gamma, ...) are skipped
            }
            pos += 12 + (int)length;
            if (ended) break;
        }

        if (header is null) throw new PngFormatException($"{source}: missing IHDR (no chunks after the signature).");
        if (idat.Count == 0) throw new PngFormatException($"{source}: missing IDAT (no image data).");
        if (!ended) throw new PngFormatException($"{source}: missing IEND (the file is truncated or incomplete).");
        if (pos != png.Length) throw new PngFormatException($"{source}: {png.Length - pos} unexpected bytes after IEND.");
        if (header.ColorType == PngColorType.Palette && palette is null)
            throw new PngFormatException($"{source}: colour type 3 (palette) but no PLTE chunk.");

        int stride = header.Width * header.Channels;
        long expected = (long)header.Height * (stride + 1);
        byte[] raw = Inflate(png, idat, expected, source);
        Unfilter(raw, header.Width, header.Height, header.Channels, source);
        return ToRgba(raw, header, palette, trns, source);
    }

    /// <summary>Width and height from the IHDR chunk (signature, IHDR length, type and CRC are checked; the rest is not read).</summary>
    public static (int Width, int Height) ReadSize(ReadOnlySpan<byte> png, string source = "(PNG in memory)")
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw new PngFormatException($"{source}: not a PNG file (the 8-byte PNG signature is missing or wrong).");
        if (png.Length < 8 + 12 + 13 || BinaryPrimitives.ReadUInt32BigEndian(png[8..]) != 13 || BinaryPrimitives.ReadUInt32BigEndian(png[12..]) != IHDR)
            throw new PngFormatException($"{source}: missing IHDR (a PNG must start with a 13-byte IHDR chunk).");
        if (BinaryPrimitives.ReadUInt32BigEndian(png[29..]) != Crc32.Compute(png.Slice(12, 17)))
            throw new PngFormatException($"{source}: CRC mismatch in chunk IHDR at byte 8; the file is corrupt.");
        var header = ParseHeader(png.Slice(16, 13), source);
        return (header.Width, header.Height);
    }

    private static bool IsChunkType(ReadOnlySpan<byte> t)
    {
        foreach (byte b in t)
            if (!(b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z')) return false;
        return true;
    }

    private static string ChunkName(ReadOnlySpan<byte> t)
    {
        Span<char> c = stackalloc char[4];
        for (int i = 0; i < 4; i++) c[i] = t[i] is >= 32 and < 127 ? (char)t[i] : '?';
        return new string(c);
    }

    private static Header ParseHeader(ReadOnlySpan<byte> d, string source)
    {
        if (d.Length != 13) throw new PngFormatException($"{source}: IHDR has {d.Length} bytes, expected 13.");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(d), h = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue)
            throw new PngFormatException($"{source}: invalid image size {w}×{h}.");
        if ((long)w * h > MaxPixels)
            throw new PngFormatException($"{source}: image size {w}×{h} exceeds the limit of {MaxPixels} pixels.");
        int depth = d[8], color = d[9], compression = d[10], filter = d[11], interlace = d[12];
        if (color is not (0 or 2 or 3 or 4 or 6))
            throw new PngFormatException($"{source}: invalid colour type {color}.");
        if (depth != 8)
            throw new PngFormatException($"{source}: bit depth {depth} is not supported (only 8-bit PNGs are decoded).");
        if (compression != 0) throw new PngFormatException($"{source}: unknown compression method {compression}.");
        if (filter != 0) throw new PngFormatException($"{source}: unknown filter method {filter}.");
        if (interlace == 1)
            throw new PngFormatException($"{source}: interlaced (Adam7) PNGs are not supported; re-save it without interlacing.");
        if (interlace != 0) throw new PngFormatException($"{source}: unknown interlace method {interlace}.");
        return new Header((int)w, (int)h, depth, (PngColorType)color, interlace);
    }

    private static byte[] ParseTransparency(ReadOnlySpan<byte> d, Header header, byte[]? palette, string source)
    {
        switch (header.ColorType)
        {
            case PngColorType.Palette:
                if (palette is null) throw new PngFormatException($"{source}: tRNS before PLTE.");
                if (d.Length > palette.Length / 3)
                    throw new PngFormatException($"{source}: tRNS has {d.Length} alpha values but the palette only {palette.Length / 3} entries.");
                break;
            case PngColorType.Grey:
                if (d.Length != 2) throw new PngFormatException($"{source}: tRNS for a grey image must have 2 bytes, has {d.Length}.");
                break;
            case PngColorType.Rgb:
                if (d.Length != 6) throw new PngFormatException($"{source}: tRNS for an RGB image must have 6 bytes, has {d.Length}.");
                break;
            default:
                throw new PngFormatException($"{source}: tRNS is not allowed for colour type {header.ColorType} (it already has alpha).");
        }
        return d.ToArray();
    }

    private static byte[] Inflate(ReadOnlySpan<byte> png, List<Range> idat, long expected, string source)
    {
        if (expected > int.MaxValue) throw new PngFormatException($"{source}: image data of {expected} bytes is too large.");
        int total = 0;
        foreach (var r in idat) total += r.End.Value - r.Start.Value;
        var compressed = new byte[total];
        int at = 0;
        foreach (var r in idat)
        {
            png[r].CopyTo(compressed.AsSpan(at));
            at += r.End.Value - r.Start.Value;
        }

        var raw = new byte[expected];
        int read = 0;
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < raw.Length)
                throw new PngFormatException($"{source}: image data decompresses to {read} bytes, expected {expected} (truncated IDAT or wrong size).");
            // Reading past the end makes zlib finish the stream and check its Adler-32.
            Span<byte> probe = stackalloc byte[1];
            if (z.Read(probe) != 0)
                throw new PngFormatException($"{source}: image data decompresses to more than the {expected} bytes the header implies.");
        }
        catch (InvalidDataException e)
        {
            throw new PngFormatException($"{source}: corrupt zlib stream in IDAT ({e.Message}).", e);
        }
        return raw;
    }

    /// <summary>Reverses the per-scanline filters in place; raw holds (1 + stride) bytes per row.</summary>
    /// <remarks>Pointer loops, with the first pixel of each row handled apart, keep this fast even in Debug builds.</remarks>
    private static unsafe void Unfilter(byte[] raw, int width, int height, int bpp, string source)
    {
        int stride = width * bpp;
        fixed (byte* start = raw)
        {
            for (int y = 0; y < height; y++)
            {
                byte* row = start + (long)y * (stride + 1);
                byte filter = row[0];
                byte* cur = row + 1;
                byte* prev = cur - (stride + 1); // valid only when y > 0
                switch (filter)
                {
                    case 0:
                        break;
                    case 1:
                        for (int i = bpp; i < stride; i++) cur[i] += cur[i - bpp];
                        break;
                    case 2:
                        if (y > 0) for (int i = 0; i < stride; i++) cur[i] += prev[i];
                        break;
                    case 3:
                        if (y == 0)
                            for (int i = bpp; i < stride; i++) cur[i] += (byte)(cur[i - bpp] >> 1);
                        else
                        {
                            for (int i = 0; i < bpp; i++) cur[i] += (byte)(prev[i] >> 1);
                            for (int i = bpp; i < stride; i++) cur[i] += (byte)((cur[i - bpp] + prev[i]) >> 1);
                        }
                        break;
                    case 4:
                        if (y == 0) // Paeth with no row above predicts from the left: the same as Sub
                            for (int i = bpp; i < stride; i++) cur[i] += cur[i - bpp];
                        else
                        {
                            for (int i = 0; i < bpp; i++) cur[i] += prev[i]; // no left pixel: Paeth picks up
                            for (int i = bpp; i < stride; i++)
                            {
                                int a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
                                int pa = b - c, pb = a - c, pc = pa + pb; // p − a, p − b, p − c with p = a + b − c
                                if (pa < 0) pa = -pa;
                                if (pb < 0) pb = -pb;
                                if (pc < 0) pc = -pc;
                                cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                            }
                        }
                        break;
                    default:
                        throw new PngFormatException($"{source}: unknown filter type {filter} on row {y}.");
                }
            }
        }
    }

    private static byte Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }

    private static RgbaImage ToRgba(byte[] raw, Header h, byte[]? palette, byte[]? trns, string source)
    {
        var image = new RgbaImage(h.Width, h.Height);
        var px = image.Pixels;
        int stride = h.Width * h.Channels;
        int paletteEntries = palette is null ? 0 : palette.Length / 3;
        for (int y = 0; y < h.Height; y++)
        {
            var row = raw.AsSpan(y * (stride + 1) + 1, stride);
            var dst = px.AsSpan(y * h.Width * 4, h.Width * 4);
            switch (h.ColorType)
            {
                case PngColorType.Rgba:
                    row.CopyTo(dst);
                    break;
                case PngColorType.Rgb:
                    for (int x = 0; x < h.Width; x++)
                    {
                        byte r = row[3 * x], g = row[3 * x + 1], b = row[3 * x + 2];
                        dst[4 * x] = r; dst[4 * x + 1] = g; dst[4 * x + 2] = b;
                        bool key = trns is not null && trns[0] == 0 && trns[1] == r && trns[2] == 0 && trns[3] == g && trns[4] == 0 && trns[5] == b;
                        dst[4 * x + 3] = key ? (byte)0 : (byte)255;
                    }
                    break;
                case PngColorType.Grey:
                    for (int x = 0; x < h.Width; x++)
                    {
                        byte v = row[x];
                        dst[4 * x] = dst[4 * x + 1] = dst[4 * x + 2] = v;
                        bool key = trns is not null && trns[0] == 0 && trns[1] == v;
                        dst[4 * x + 3] = key ? (byte)0 : (byte)255;
                    }
                    break;
                case PngColorType.GreyAlpha:
                    for (int x = 0; x < h.Width; x++)
                    {
                        byte v = row[2 * x];
                        dst[4 * x] = dst[4 * x + 1] = dst[4 * x + 2] = v;
                        dst[4 * x + 3] = row[2 * x + 1];
                    }
                    break;
                case PngColorType.Palette:
                    for (int x = 0; x < h.Width; x++)
                    {
                        int i = row[x];
                        if (i >= paletteEntries)
                            throw new PngFormatException($"{source}: palette index {i} at ({x}, {y}) is out of range (the palette has {paletteEntries} entries).");
                        dst[4 * x] = palette![3 * i]; dst[4 * x + 1] = palette[3 * i + 1]; dst[4 * x + 2] = palette[3 * i + 2];
                        dst[4 * x + 3] = trns is not null && i < trns.Length ? trns[i] : (byte)255;
                    }
                    break;
            }
        }
        return image;
    }

    // ---------------------------------------------------------------- encoding

    /// <summary>Encodes an image as an 8-bit RGBA (default) or RGB PNG.</summary>
    public static byte[] Encode(RgbaImage image, PngEncoderOptions? options = null)
    {
        options ??= new PngEncoderOptions();
        int channels = options.ColorType switch
        {
            PngColorType.Rgba => 4,
            PngColorType.Rgb => 3,
            _ => throw new ArgumentException($"The encoder writes colour types Rgba and Rgb, not {options.ColorType}.", nameof(options)),
        };
        if (channels == 3 && !image.IsOpaque())
            throw new ArgumentException("The image has transparent pixels; encode it as Rgba or composite it on a background first.", nameof(image));
        if (options.MaxIdatChunk < 1) throw new ArgumentException($"MaxIdatChunk must be positive, not {options.MaxIdatChunk}.", nameof(options));

        int stride = image.Width * channels;
        var scan = new byte[stride];
        var prev = new byte[stride];
        var trial = new byte[stride];
        var best = new byte[stride];
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, options.Compression, leaveOpen: true))
        {
            for (int y = 0; y < image.Height; y++)
            {
                var src = image.Pixels.AsSpan(y * image.Width * 4, image.Width * 4);
                if (channels == 4) src.CopyTo(scan);
                else for (int x = 0; x < image.Width; x++) { scan[3 * x] = src[4 * x]; scan[3 * x + 1] = src[4 * x + 1]; scan[3 * x + 2] = src[4 * x + 2]; }

                PngFilter chosen;
                if (options.Filter is { } fixedFilter)
                {
                    chosen = fixedFilter;
                    ApplyFilter(chosen, scan, prev, y > 0, channels, best);
                }
                else
                {
                    chosen = PngFilter.None;
                    long bestScore = long.MaxValue;
                    foreach (var f in (ReadOnlySpan<PngFilter>)[PngFilter.None, PngFilter.Sub, PngFilter.Up, PngFilter.Average, PngFilter.Paeth])
                    {
                        ApplyFilter(f, scan, prev, y > 0, channels, trial);
                        long score = 0;
                        foreach (byte b in trial) score += b < 128 ? b : 256 - b;
                        if (score < bestScore) { bestScore = score; chosen = f; trial.CopyTo(best, 0); }
                    }
                }
                z.WriteByte((byte)chosen);
                z.Write(best);
                (scan, prev) = (prev, scan);
            }
        }

        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)image.Height);
        ihdr[8] = 8; ihdr[9] = (byte)options.ColorType; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
        WriteChunk(output, "IHDR"u8, ihdr);
        var data = compressed.GetBuffer().AsSpan(0, (int)compressed.Length);
        for (int at = 0; at < data.Length; at += options.MaxIdatChunk)
            WriteChunk(output, "IDAT"u8, data.Slice(at, Math.Min(options.MaxIdatChunk, data.Length - at)));
        WriteChunk(output, "IEND"u8, ReadOnlySpan<byte>.Empty);
        return output.ToArray();
    }

    /// <summary>Encodes and writes a PNG atomically (temporary file, then rename).</summary>
    public static void Save(RgbaImage image, string path, PngEncoderOptions? options = null)
        => AtomicFile.WriteAllBytes(path, Encode(image, options));

    private static void ApplyFilter(PngFilter filter, byte[] cur, byte[] prev, bool hasPrev, int bpp, byte[] output)
    {
        for (int i = 0; i < cur.Length; i++)
        {
            int left = i >= bpp ? cur[i - bpp] : 0, up = hasPrev ? prev[i] : 0, upLeft = hasPrev && i >= bpp ? prev[i - bpp] : 0;
            output[i] = filter switch
            {
                PngFilter.None => cur[i],
                PngFilter.Sub => (byte)(cur[i] - left),
                PngFilter.Up => (byte)(cur[i] - up),
                PngFilter.Average => (byte)(cur[i] - ((left + up) >> 1)),
                PngFilter.Paeth => (byte)(cur[i] - Paeth(left, up, upLeft)),
                _ => throw new ArgumentException($"Unknown PNG filter {filter}.", nameof(filter)),
            };
        }
    }

    /// <summary>Writes length, type, data and the CRC-32 of type + data.</summary>
    internal static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        output.Write(word);
    }
}
