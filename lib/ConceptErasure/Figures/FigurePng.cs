// A deliberately tiny PNG encoder for figures: 8-bit RGB, no interlacing, filter type 0 on every row,
// zlib from the base library. It exists only so ImageGrid can embed float images; the library's full PNG
// codec (Data/) can replace it by re-implementing these two members, which are all that figures use.
// Also reads the width and height from a PNG's IHDR chunk, to lay out PNGs given as bytes.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ConceptErasure.Figures;

/// <summary>Minimal PNG support for figures: encode RGB8, read the size of a PNG.</summary>
internal static class FigurePng
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Encodes interleaved 8-bit RGB pixels (row-major, 3 bytes a pixel) as PNG.</summary>
    public static byte[] EncodeRgb8(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"An image must be at least 1×1 pixels, not {width}×{height}.");
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"{width}×{height} RGB pixels need {width * height * 3} bytes, not {rgb.Length}.");
        var raw = new byte[height * (width * 3 + 1)];
        for (int y = 0; y < height; y++)
        {
            raw[y * (width * 3 + 1)] = 0; // filter: none
            rgb.Slice(y * width * 3, width * 3).CopyTo(raw.AsSpan(y * (width * 3 + 1) + 1));
        }
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);

        using var png = new MemoryStream();
        png.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: RGB
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    /// <summary>Width and height from the IHDR chunk; throws if <paramref name="png"/> is not a PNG.</summary>
    public static (int Width, int Height) ReadSize(ReadOnlySpan<byte> png)
    {
        if (png.Length < 24 || !png[..8].SequenceEqual(Signature) || Encoding.ASCII.GetString(png.Slice(12, 4)) != "IHDR")
            throw new ArgumentException("The bytes are not a PNG image (bad signature or missing IHDR chunk).");
        return (BinaryPrimitives.ReadInt32BigEndian(png.Slice(16, 4)), BinaryPrimitives.ReadInt32BigEndian(png.Slice(20, 4)));
    }

    /// <summary>Converts a (3, H, W) float image in [-1, 1] (values clamped) to PNG.</summary>
    public static byte[] FromChw(ReadOnlySpan<float> chw, int height, int width)
    {
        if (chw.Length != 3 * height * width)
            throw new ArgumentException($"A (3, {height}, {width}) image has {3 * height * width} values, not {chw.Length}.");
        var rgb = new byte[height * width * 3];
        int plane = height * width;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                float v = chw[c * plane + i];
                float u = float.IsNaN(v) ? 0 : Math.Clamp((v + 1f) * 0.5f, 0f, 1f);
                rgb[i * 3 + c] = (byte)MathF.Round(u * 255f);
            }
        return EncodeRgb8(rgb, width, height);
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc);
        s.Write(c);
    }

    private static uint Crc(uint crc, byte[] data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
