// Tests of the PNG decoder and encoder: CRC-32 check value, round trips for every filter and both encoder colour
// types, decoding of hand-assembled grey / grey+alpha / palette+tRNS / colour-key files, and rejection of each kind
// of malformed input with a message that names the source. Files are assembled here chunk by chunk (PngBuilder) so
// every malformation is exact.
using System.Buffers.Binary;
using System.IO.Compression;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

/// <summary>Assembles PNG files from chunks, for tests (CRC computed unless told otherwise).</summary>
internal static class PngBuilder
{
    public static byte[] Ihdr(int w, int h, byte depth = 8, byte color = 6, byte interlace = 0)
    {
        var d = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(d, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), (uint)h);
        d[8] = depth; d[9] = color; d[12] = interlace;
        return d;
    }

    public static byte[] Zlib(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    public static byte[] Chunk(string type, byte[] data)
    {
        using var ms = new MemoryStream();
        Png.WriteChunk(ms, System.Text.Encoding.ASCII.GetBytes(type), data);
        return ms.ToArray();
    }

    public static byte[] File(params byte[][] chunks)
    {
        using var ms = new MemoryStream();
        ms.Write(Png.Signature);
        foreach (var c in chunks) ms.Write(c);
        return ms.ToArray();
    }

    /// <summary>A complete file from unfiltered-with-filter-byte scanlines.</summary>
    public static byte[] Simple(byte[] ihdr, byte[] raw, byte[]? plte = null, byte[]? trns = null)
    {
        var chunks = new List<byte[]> { Chunk("IHDR", ihdr) };
        if (plte is not null) chunks.Add(Chunk("PLTE", plte));
        if (trns is not null) chunks.Add(Chunk("tRNS", trns));
        chunks.Add(Chunk("IDAT", Zlib(raw)));
        chunks.Add(Chunk("IEND", []));
        return File([.. chunks]);
    }

    /// <summary>Chunk types and data of a PNG (no validation), to look inside encoder output.</summary>
    public static List<(string Type, byte[] Data)> Chunks(byte[] png)
    {
        var list = new List<(string, byte[])>();
        for (int pos = 8; pos < png.Length;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            list.Add((System.Text.Encoding.ASCII.GetString(png, pos + 4, 4), png.AsSpan(pos + 8, len).ToArray()));
            pos += 12 + len;
        }
        return list;
    }

    /// <summary>The decompressed scanlines (filter byte + data) of a PNG.</summary>
    public static byte[] RawScanlines(byte[] png)
    {
        var idat = Chunks(png).Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray();
        using var z = new ZLibStream(new MemoryStream(idat), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        z.CopyTo(ms);
        return ms.ToArray();
    }
}

public class PngTests
{
    private static RgbaImage Noise(int w, int h, int seed, bool opaque)
    {
        var rng = new Random(seed);
        var img = new RgbaImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                // smooth gradients plus noise, so every filter has something to predict
                img.SetPixel(x, y, (byte)(x * 7 + rng.Next(8)), (byte)(y * 5 + rng.Next(8)), (byte)rng.Next(256), opaque ? (byte)255 : (byte)rng.Next(256));
        return img;
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
        Assert.Equal(Crc32.Compute("123456789"u8), Crc32.Append(Crc32.Compute("1234"u8), "56789"u8));
    }

    [Theory]
    [InlineData(PngFilter.None)]
    [InlineData(PngFilter.Sub)]
    [InlineData(PngFilter.Up)]
    [InlineData(PngFilter.Average)]
    [InlineData(PngFilter.Paeth)]
    [InlineData(null)]
    public void Rgba_round_trip_with_each_filter(PngFilter? filter)
    {
        var img = Noise(37, 23, seed: 1, opaque: false);
        var png = Png.Encode(img, new PngEncoderOptions(Filter: filter));
        Assert.Equal((byte)6, PngBuilder.Chunks(png)[0].Data[9]);
        var raw = PngBuilder.RawScanlines(png);
        Assert.Equal(23 * (1 + 37 * 4), raw.Length);
        var filterBytes = Enumerable.Range(0, 23).Select(y => raw[y * (1 + 37 * 4)]).ToArray();
        if (filter is { } f) Assert.All(filterBytes, b => Assert.Equal((byte)f, b));
        else Assert.True(filterBytes.Distinct().Count() > 1, "adaptive filtering should pick more than one filter on this image");

        var back = Png.Decode(png);
        Assert.Equal(img.Width, back.Width);
        Assert.Equal(img.Height, back.Height);
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Theory]
    [InlineData(PngFilter.Sub)]
    [InlineData(PngFilter.Paeth)]
    [InlineData(null)]
    public void Rgb_round_trip_keeps_colours_and_is_opaque(PngFilter? filter)
    {
        var img = Noise(19, 31, seed: 2, opaque: true);
        var png = Png.Encode(img, new PngEncoderOptions(PngColorType.Rgb, filter));
        Assert.Equal((byte)2, PngBuilder.Chunks(png)[0].Data[9]);
        Assert.Equal(31 * (1 + 19 * 3), PngBuilder.RawScanlines(png).Length);
        Assert.Equal(img.Pixels, Png.Decode(png).Pixels);
    }

    [Fact]
    public void Rgb_encoding_refuses_transparent_images()
    {
        var img = Noise(4, 4, seed: 3, opaque: true);
        img.SetPixel(2, 2, 1, 2, 3, 128);
        Assert.Throws<ArgumentException>(() => Png.Encode(img, new PngEncoderOptions(PngColorType.Rgb)));
        Assert.Throws<ArgumentException>(() => Png.Encode(img, new PngEncoderOptions(PngColorType.Palette)));
    }

    [Fact]
    public void ReadSize_reads_the_header_only_and_checks_it()
    {
        var png = Png.Encode(Noise(13, 7, seed: 6, opaque: true));
        Assert.Equal((13, 7), Png.ReadSize(png));
        Assert.Equal((13, 7), Png.ReadSize(png[..40])); // the image data is not needed
        var bad = (byte[])png.Clone();
        bad[18] ^= 1;
        Assert.Contains("CRC mismatch", Assert.Throws<PngFormatException>(() => Png.ReadSize(bad)).Message);
        Assert.Throws<PngFormatException>(() => Png.ReadSize(png[..20]));
        Assert.Throws<PngFormatException>(() => Png.ReadSize("GIF89a"u8));
    }

    [Fact]
    public void Image_data_split_over_many_IDAT_chunks_decodes()
    {
        var img = Noise(40, 40, seed: 4, opaque: false);
        var png = Png.Encode(img, new PngEncoderOptions(MaxIdatChunk: 97));
        Assert.True(PngBuilder.Chunks(png).Count(c => c.Type == "IDAT") > 5);
        Assert.Equal(img.Pixels, Png.Decode(png).Pixels);
    }

    [Fact]
    public void Save_then_Load_round_trips_and_leaves_no_temporary_files()
    {
        string dir = Directory.CreateTempSubdirectory("png-test-").FullName;
        try
        {
            var img = Noise(9, 5, seed: 5, opaque: false);
            string path = Path.Combine(dir, "x.png");
            Png.Save(img, path);
            Png.Save(img, path); // overwrite
            Assert.Equal(img.Pixels, Png.Load(path).Pixels);
            Assert.Equal(["x.png"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Grey_with_colour_key_decodes_to_rgba()
    {
        // 3×2 grey; row 0 with filter Sub, row 1 with Up; tRNS makes grey value 40 transparent.
        byte[] raw = [1, 10, 30, 20, /* 10, 40, 60 */ 2, 5, 0, 250 /* 15, 40, 54 */];
        var img = Png.Decode(PngBuilder.Simple(PngBuilder.Ihdr(3, 2, color: 0), raw, trns: [0, 40]));
        byte[] expected =
        [
            10, 10, 10, 255, 40, 40, 40, 0, 60, 60, 60, 255,
            15, 15, 15, 255, 40, 40, 40, 0, 54, 54, 54, 255,
        ];
        Assert.Equal(expected, img.Pixels);
    }

    [Fact]
    public void Grey_alpha_decodes_with_average_and_paeth_filters()
    {
        // 2×2 grey+alpha (bpp 2). Row 0 filter Average (no row above): byte i += floor(left/2).
        // Row 1 filter Paeth against row 0.
        // Row 1 filter Paeth against row 0: predictors 100, 200 (up), then Paeth(left 101, up 60, up-left 100) = 60
        // and Paeth(201, 120, 200) = 120.
        byte[] raw = [3, 100, 200, 10, 20, 4, 1, 1, 1, 1];
        var img = Png.Decode(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, color: 4), raw));
        byte[] expected = [100, 100, 100, 200, 60, 60, 60, 120, 101, 101, 101, 201, 61, 61, 61, 121];
        Assert.Equal(expected, img.Pixels);
    }

    [Fact]
    public void Paeth_ties_follow_the_spec_order_left_then_up_then_up_left()
    {
        // Grey 2×2. Row 0 (None): 20, 40. Row 1 (Paeth): pixel 0 predicts from up (20) → 246 + 20 = 10;
        // pixel 1 has left 10, up 40, up-left 20: p = 30, |p−up| = |p−upLeft| = 10 < |p−left| = 20, so up (40) wins the tie.
        byte[] raw = [0, 20, 40, 4, 246, 5];
        var img = Png.Decode(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, color: 0), raw));
        Assert.Equal([20, 40, 10, 45], Enumerable.Range(0, 4).Select(i => (int)img.Pixels[4 * i]));
    }

    [Fact]
    public void Palette_with_tRNS_decodes_entries_and_alpha()
    {
        byte[] plte = [255, 0, 0, 0, 255, 0, 0, 0, 255];
        byte[] trns = [0, 128]; // entry 2 has no tRNS value → opaque
        byte[] raw = [0, 0, 1, 2, 0, 2, 1, 0];
        var img = Png.Decode(PngBuilder.Simple(PngBuilder.Ihdr(3, 2, color: 3), raw, plte, trns));
        byte[] expected =
        [
            255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255,
            0, 0, 255, 255, 0, 255, 0, 128, 255, 0, 0, 0,
        ];
        Assert.Equal(expected, img.Pixels);
    }

    [Fact]
    public void Rgb_with_colour_key_makes_only_that_colour_transparent()
    {
        byte[] raw = [0, 1, 2, 3, 4, 5, 6];
        var img = Png.Decode(PngBuilder.Simple(PngBuilder.Ihdr(2, 1, color: 2), raw, trns: [0, 4, 0, 5, 0, 6]));
        Assert.Equal(new byte[] { 1, 2, 3, 255, 4, 5, 6, 0 }, img.Pixels);
    }

    // ---------------------------------------------------------------- malformed input

    private static byte[] Valid() => Png.Encode(Noise(6, 4, seed: 9, opaque: false), new PngEncoderOptions(Filter: PngFilter.Paeth));

    private static void Rejected(byte[] png, string expectedFragment)
    {
        var e = Assert.Throws<PngFormatException>(() => Png.Decode(png, "probe.png"));
        Assert.StartsWith("probe.png: ", e.Message);
        Assert.Contains(expectedFragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Valid_probe_decodes() => Assert.Equal(6, Png.Decode(Valid()).Width);

    [Fact]
    public void Bad_signature_is_rejected()
    {
        var png = Valid();
        png[1] = (byte)'Q';
        Rejected(png, "signature");
        Rejected([], "signature");
        Rejected("GIF89a.."u8.ToArray(), "signature");
    }

    [Fact]
    public void Truncated_files_are_rejected()
    {
        var png = Valid();
        Rejected(png[..(png.Length - 20)], "truncated");      // cut inside IDAT/IEND
        Rejected(png[..(8 + 7)], "truncated");                 // cut inside the first chunk header
        Rejected(png[..(png.Length - 12)], "missing IEND");    // IEND dropped entirely
        Rejected(png[..8], "missing IHDR");
    }

    [Fact]
    public void Crc_mismatch_is_rejected()
    {
        var png = Valid();
        int idatData = 8 + 25 + 8; // signature, IHDR chunk (12 + 13), IDAT header
        png[idatData + 3] ^= 0x40;
        Rejected(png, "CRC mismatch in chunk IDAT");
        var header = Valid();
        header[8 + 8 + 2] ^= 1; // a byte of the width
        Rejected(header, "CRC mismatch in chunk IHDR");
    }

    [Fact]
    public void Missing_or_misplaced_critical_chunks_are_rejected()
    {
        var chunks = PngBuilder.Chunks(Valid());
        byte[] Rebuild(IEnumerable<(string Type, byte[] Data)> cs) => PngBuilder.File(cs.Select(c => PngBuilder.Chunk(c.Type, c.Data)).ToArray());
        Rejected(Rebuild(chunks.Where(c => c.Type != "IHDR")), "missing IHDR");
        Rejected(Rebuild(chunks.Where(c => c.Type != "IDAT")), "missing IDAT");
        Rejected(Rebuild(chunks.Where(c => c.Type != "IEND")), "missing IEND");
        Rejected(Rebuild(chunks.Append(chunks[^1])), "after IEND");
        Rejected(Rebuild(chunks.Take(1).Append(("QQQQ", new byte[3])).Concat(chunks.Skip(1))), "unknown critical chunk QQQQ");
        Rejected(Rebuild(chunks.Take(1).Concat(chunks.Take(1)).Concat(chunks.Skip(1))), "more than one IHDR");
        // an ancillary chunk is skipped
        Assert.Equal(6, Png.Decode(Rebuild(chunks.Take(1).Append(("tEXt", "a\0b"u8.ToArray())).Concat(chunks.Skip(1)))).Width);
    }

    [Fact]
    public void Wrong_amount_of_image_data_is_rejected()
    {
        var ihdr = PngBuilder.Ihdr(2, 2, color: 6);
        var full = new byte[2 * (1 + 8)];
        Rejected(PngBuilder.Simple(ihdr, full[..^1]), "expected 18");
        Rejected(PngBuilder.Simple(ihdr, [.. full, 0]), "more than");
        Assert.Equal(2, Png.Decode(PngBuilder.Simple(ihdr, full)).Width);
    }

    [Fact]
    public void Unsupported_formats_are_rejected_with_the_reason()
    {
        var raw = new byte[2 * (1 + 2 * 8)];
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, depth: 16, color: 6), raw), "bit depth 16");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, depth: 4, color: 0), new byte[4]), "bit depth 4");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, interlace: 1), new byte[2 * 9]), "interlaced");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 2, color: 5), new byte[2 * 9]), "colour type 5");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(0, 2), []), "size");
    }

    [Fact]
    public void Invalid_scanline_content_is_rejected()
    {
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(1, 2, color: 0), [0, 7, 5, 7]), "filter type 5 on row 1");
        byte[] plte = [1, 2, 3, 4, 5, 6];
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 1, color: 3), [0, 1, 2], plte), "palette index 2");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 1, color: 3), [0, 0, 0]), "no PLTE");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 1, color: 3), [0, 0, 0], plte, trns: [1, 2, 3]), "tRNS has 3");
        Rejected(PngBuilder.Simple(PngBuilder.Ihdr(2, 1, color: 6), new byte[9], trns: [0, 1]), "tRNS is not allowed");
    }

    [Fact]
    public void Corrupt_zlib_stream_is_rejected()
    {
        var raw = new byte[4 * (1 + 4 * 4)];
        for (int i = 0; i < raw.Length; i++) raw[i] = (byte)(i % 17 == 0 ? 0 : i * 13); // filter bytes 0
        var z = PngBuilder.Zlib(raw);
        z[^1] ^= 0xFF; // Adler-32 checksum
        var png = PngBuilder.File(PngBuilder.Chunk("IHDR", PngBuilder.Ihdr(4, 4)), PngBuilder.Chunk("IDAT", z), PngBuilder.Chunk("IEND", []));
        Rejected(png, "zlib");
        var junk = PngBuilder.File(PngBuilder.Chunk("IHDR", PngBuilder.Ihdr(4, 4)), PngBuilder.Chunk("IDAT", [1, 2, 3, 4, 5]), PngBuilder.Chunk("IEND", []));
        Assert.Throws<PngFormatException>(() => Png.Decode(junk));
    }
}
