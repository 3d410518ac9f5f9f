// An 8-bit RGBA raster (straight, not premultiplied, alpha; rows top to bottom, pixels left to right) with the few
// operations the data layer needs: crop, nearest-neighbour enlargement, alpha-over blits, fills and compositing on
// a background colour. It is what the PNG decoder returns and what the encoder and the image grid consume.
namespace ConceptErasure.Data;

/// <summary>An 8-bit RGBA image; <see cref="Pixels"/> holds Width × Height × 4 bytes, row-major.</summary>
public sealed class RgbaImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    /// <summary>A fully transparent black image.</summary>
    public RgbaImage(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is not positive.");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 4)];
    }

    /// <summary>Wraps existing RGBA bytes (not copied).</summary>
    public RgbaImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is not positive.");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * 4)
            throw new ArgumentException($"A {width}×{height} RGBA image needs {(long)width * height * 4} bytes, got {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>The four bytes (R, G, B, A) of pixel (x, y).</summary>
    public Span<byte> Pixel(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x}, {y}) is outside the {Width}×{Height} image.");
        return Pixels.AsSpan((y * Width + x) * 4, 4);
    }

    public void SetPixel(int x, int y, byte r, byte g, byte b, byte a = 255)
    {
        var p = Pixel(x, y);
        p[0] = r; p[1] = g; p[2] = b; p[3] = a;
    }

    /// <summary>True when every pixel has alpha 255.</summary>
    public bool IsOpaque()
    {
        for (int i = 3; i < Pixels.Length; i += 4)
            if (Pixels[i] != 255) return false;
        return true;
    }

    /// <summary>A copy of the rectangle (x, y, width, height), which must lie inside the image.</summary>
    public RgbaImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > Width || y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"Crop ({x}, {y}, {width}×{height}) is outside the {Width}×{Height} image.");
        var result = new RgbaImage(width, height);
        for (int row = 0; row < height; row++)
            Pixels.AsSpan(((y + row) * Width + x) * 4, width * 4).CopyTo(result.Pixels.AsSpan(row * width * 4));
        return result;
    }

    /// <summary>Each pixel repeated factor × factor times (nearest neighbour).</summary>
    public RgbaImage Enlarge(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), $"Enlargement factor {factor} must be at least 1.");
        if (factor == 1) return new RgbaImage(Width, Height, (byte[])Pixels.Clone());
        var result = new RgbaImage(Width * factor, Height * factor);
        for (int y = 0; y < result.Height; y++)
        {
            var src = Pixels.AsSpan(y / factor * Width * 4, Width * 4);
            var dst = result.Pixels.AsSpan(y * result.Width * 4, result.Width * 4);
            for (int x = 0; x < result.Width; x++)
                src.Slice(x / factor * 4, 4).CopyTo(dst.Slice(x * 4, 4));
        }
        return result;
    }

    /// <summary>Sets every pixel of the rectangle (clipped to the image) to one colour.</summary>
    public void Fill(int x, int y, int width, int height, byte r, byte g, byte b, byte a = 255)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y), x1 = Math.Min(Width, x + width), y1 = Math.Min(Height, y + height);
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
            {
                int i = (yy * Width + xx) * 4;
                Pixels[i] = r; Pixels[i + 1] = g; Pixels[i + 2] = b; Pixels[i + 3] = a;
            }
    }

    /// <summary>Draws <paramref name="source"/> with its top-left corner at (x, y) using "source over" alpha blending (clipped).</summary>
    public void Blit(RgbaImage source, int x, int y)
    {
        for (int sy = 0; sy < source.Height; sy++)
        {
            int dy = y + sy;
            if ((uint)dy >= (uint)Height) continue;
            for (int sx = 0; sx < source.Width; sx++)
            {
                int dx = x + sx;
                if ((uint)dx >= (uint)Width) continue;
                int s = (sy * source.Width + sx) * 4, d = (dy * Width + dx) * 4;
                int sa = source.Pixels[s + 3];
                if (sa == 0) continue;
                if (sa == 255) { source.Pixels.AsSpan(s, 4).CopyTo(Pixels.AsSpan(d, 4)); continue; }
                int da = Pixels[d + 3];
                // out_a = sa + da (1 - sa); out_c = (sc sa + dc da (1 - sa)) / out_a, in units of 1/255.
                int outA255 = sa * 255 + da * (255 - sa);
                for (int c = 0; c < 3; c++)
                {
                    int num = source.Pixels[s + c] * sa * 255 + Pixels[d + c] * da * (255 - sa);
                    Pixels[d + c] = (byte)((num + outA255 / 2) / outA255);
                }
                Pixels[d + 3] = (byte)((outA255 + 127) / 255);
            }
        }
    }

    /// <summary>A new opaque image: this one composited over a solid background (white by default).</summary>
    public RgbaImage OnBackground(byte r = 255, byte g = 255, byte b = 255)
    {
        var result = new RgbaImage(Width, Height);
        result.Fill(0, 0, Width, Height, r, g, b);
        result.Blit(this, 0, 0);
        return result;
    }
}
