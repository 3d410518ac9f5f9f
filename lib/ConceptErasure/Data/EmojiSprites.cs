// Slicing emoji-datasource sprite sheets into training images. A 32 px sheet is a grid of 34 px cells: each 32×32
// sprite sits inside a 1 px transparent border, at x = sheet_x · 34 + 1, y = sheet_y · 34 + 1 (emoji-data README,
// "Understanding the spritesheets"). The sheets fill emoji a vendor lacks with another vendor's art, so a sprite is
// only taken where emoji.json's has_img_<vendor> is true. Images are composited on white (sprites have straight
// alpha) and laid out channel-first, RGB, in [-1, 1]: image i of a set occupies Pixels[i·3·32·32 ..] as (3, 32, 32),
// row-major — the (N, 3, 32, 32) tensor layout the models use.
namespace ConceptErasure.Data;

/// <summary>One decoded 32 px sprite sheet of one style.</summary>
public sealed class EmojiSpriteSheet
{
    public EmojiStyle Style { get; }
    public RgbaImage Image { get; }
    public int SpriteSize { get; }
    public int Padding { get; }
    /// <summary>Cell pitch: SpriteSize + 2 · Padding (34).</summary>
    public int Cell => SpriteSize + 2 * Padding;
    public int Columns => Image.Width / Cell;
    public int Rows => Image.Height / Cell;
    public string Source { get; }

    /// <summary>Checks that the sheet is a whole grid of cells large enough for every position the index uses.</summary>
    public EmojiSpriteSheet(RgbaImage image, EmojiStyle style, EmojiIndex index, int spriteSize = 32, int padding = 1, string source = "(sheet)")
    {
        if (spriteSize <= 0 || padding < 0) throw new ArgumentOutOfRangeException(nameof(spriteSize), $"Sprite size {spriteSize} / padding {padding} are invalid.");
        Image = image;
        Style = style;
        SpriteSize = spriteSize;
        Padding = padding;
        Source = source;
        if (image.Width % Cell != 0 || image.Height % Cell != 0)
            throw new InvalidDataException($"{source}: the sheet is {image.Width}×{image.Height} px, not a whole grid of {Cell} px cells ({spriteSize} px sprites with {padding} px padding).");
        if (Columns < index.SheetColumns || Rows < index.SheetRows)
            throw new InvalidDataException($"{source}: the sheet has {Columns}×{Rows} cells but {index.Source} addresses {index.SheetColumns}×{index.SheetRows}.");
    }

    public static EmojiSpriteSheet Load(string path, EmojiStyle style, EmojiIndex index, int spriteSize = 32, int padding = 1)
        => new(Png.Load(path), style, index, spriteSize, padding, path);

    /// <summary>The whole cell (sprite and its padding) at a sheet position.</summary>
    public RgbaImage CellImage(int sheetX, int sheetY) => Image.Crop(sheetX * Cell, sheetY * Cell, Cell, Cell);

    /// <summary>The RGBA sprite of a concept (straight alpha); the style must have its own art for it.</summary>
    public RgbaImage Sprite(EmojiConcept concept)
    {
        RequireArt(concept);
        return Image.Crop(concept.SheetX * Cell + Padding, concept.SheetY * Cell + Padding, SpriteSize, SpriteSize);
    }

    /// <summary>Writes the concept's sprite composited on white as (3, S, S) floats in [-1, 1].</summary>
    public unsafe void WriteChw(EmojiConcept concept, Span<float> destination)
    {
        RequireArt(concept);
        int s = SpriteSize, plane = s * s;
        if (destination.Length < 3 * plane)
            throw new ArgumentException($"The destination holds {destination.Length} floats; a 3×{s}×{s} image needs {3 * plane}.", nameof(destination));
        int x0 = concept.SheetX * Cell + Padding, y0 = concept.SheetY * Cell + Padding;
        fixed (byte* pixels = Image.Pixels)
        fixed (float* dst = destination)
        {
            for (int y = 0; y < s; y++)
            {
                byte* p = pixels + ((long)(y0 + y) * Image.Width + x0) * 4;
                float* r = dst + y * s, g = r + plane, b = g + plane;
                for (int x = 0; x < s; x++, p += 4)
                {
                    // value on white, 0..255: (colour · a + 255 · (255 − a)) / 255; then mapped to [-1, 1].
                    int a = p[3], white = 255 * (255 - a);
                    r[x] = (p[0] * a + white) / 255f / 127.5f - 1f;
                    g[x] = (p[1] * a + white) / 255f / 127.5f - 1f;
                    b[x] = (p[2] * a + white) / 255f / 127.5f - 1f;
                }
            }
        }
    }

    private void RequireArt(EmojiConcept concept)
    {
        if (!concept.HasArt(Style))
            throw new ArgumentException($"Style '{Style.Name}' has no art of its own for '{concept.Name}' ({concept.Unified}); its sheet cell holds another vendor's fallback.", nameof(concept));
        if (concept.SheetX >= Columns || concept.SheetY >= Rows)
            throw new ArgumentException($"'{concept.Name}' is at sheet cell ({concept.SheetX}, {concept.SheetY}), outside the {Columns}×{Rows} sheet {Source}.", nameof(concept));
    }
}

/// <summary>One training image: a concept drawn in a style.</summary>
public sealed record EmojiSample(EmojiConcept Concept, EmojiStyle Style);

/// <summary>A batch of emoji images as one (N, 3, S, S) float array in [-1, 1], with the sample behind each image.</summary>
public sealed class EmojiImageSet
{
    public const int Channels = 3;

    public IReadOnlyList<EmojiSample> Samples { get; }
    /// <summary>N · 3 · S · S floats, image-major, then channel (R, G, B), row, column.</summary>
    public float[] Pixels { get; }
    public int Size { get; }
    public int Count => Samples.Count;
    public int ImageLength => Channels * Size * Size;
    /// <summary>[N, 3, S, S].</summary>
    public long[] Shape => [Count, Channels, Size, Size];

    public EmojiImageSet(IReadOnlyList<EmojiSample> samples, float[] pixels, int size)
    {
        if (pixels.Length != (long)samples.Count * Channels * size * size)
            throw new ArgumentException($"{samples.Count} images of 3×{size}×{size} need {(long)samples.Count * Channels * size * size} floats, got {pixels.Length}.", nameof(pixels));
        Samples = samples;
        Pixels = pixels;
        Size = size;
    }

    /// <summary>Image i as (3, S, S) floats.</summary>
    public Span<float> Image(int i) => Pixels.AsSpan(checked(i * ImageLength), ImageLength);

    /// <summary>Image i back as an opaque RGBA image (for looking at it).</summary>
    public RgbaImage ToRgba(int i) => ChwToRgba(Image(i), Size);

    /// <summary>Converts a (3, S, S) float image in [-1, 1] (values outside are clamped) to opaque RGBA.</summary>
    public static RgbaImage ChwToRgba(ReadOnlySpan<float> chw, int size) => ChwToRgba(chw, size, size);

    /// <summary>Converts a (3, H, W) float image in [-1, 1] (values outside are clamped, NaN is black) to opaque RGBA.</summary>
    public static RgbaImage ChwToRgba(ReadOnlySpan<float> chw, int height, int width)
    {
        int plane = height * width;
        if (chw.Length != 3 * plane) throw new ArgumentException($"Expected 3×{height}×{width} = {3 * plane} floats, got {chw.Length}.", nameof(chw));
        var image = new RgbaImage(width, height);
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                var v = chw[c * plane + i];
                image.Pixels[4 * i + c] = float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(MathF.Round((v + 1f) * 127.5f), 0, 255);
            }
            image.Pixels[4 * i + 3] = 255;
        }
        return image;
    }
}
