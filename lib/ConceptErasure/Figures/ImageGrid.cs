// A grid of images with captions (and optional row/column headings), as one PNG. Images are given as PNG
// bytes or as RGB float arrays of shape (3, H, W) in [-1, 1] (the diffusion model's output range). Small
// images are scaled up with nearest-neighbour sampling so that a 32×32 sample stays crisp. Captions wrap to
// two lines. Drawing uses SkiaSharp (text in the first installed font of the style's list); the PNG is
// encoded by the library's own encoder (Data/Png.cs), so the same grid gives the same bytes. Notebooks get
// image/png (what VS Code, GitHub and nbconvert all show) and text/plain (the captions).
using System.Globalization;
using ConceptErasure.Data;
using ConceptErasure.Workbook;
using SkiaSharp;

namespace ConceptErasure.Figures;

/// <summary>Layout of an image grid.</summary>
/// <param name="CellSize">Display size in pixels of each image's longer side (default 128).</param>
/// <param name="Gap">Space between cells in pixels (default 10).</param>
/// <param name="FontSize">Caption font size in pixels; the title is 1.25× (default 12).</param>
/// <param name="FontFamily">Font list; the first installed one is used (default: DejaVu Sans, then common sans-serif fonts).</param>
/// <param name="Pixelated">Scale images with nearest-neighbour (crisp pixels) rather than smoothing (default true).</param>
public sealed record ImageGridStyle(
    int CellSize = 128,
    int Gap = 10,
    double FontSize = 12,
    string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif",
    bool Pixelated = true)
{
    public static ImageGridStyle Default { get; } = new();
}

/// <summary>Images in a grid with captions; shown as a PNG in notebooks.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Png, MimeTypes.PlainText })]
public sealed class ImageGrid : IMimeRenderable
{
    private readonly List<(RgbaImage Image, string Caption)> _images = new();
    private string[]? _rowLabels;
    private string[]? _columnLabels;

    /// <param name="title">Heading above the grid ("" for none).</param>
    /// <param name="columns">Images per row; 0 chooses min(count, 8).</param>
    public ImageGrid(string title = "", int columns = 0)
    {
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), "The number of columns cannot be negative.");
        Title = title ?? "";
        RequestedColumns = columns;
    }

    public string Title { get; }

    public int RequestedColumns { get; }

    public ImageGridStyle Style { get; init; } = ImageGridStyle.Default;

    public int Count => _images.Count;

    /// <summary>The number of columns used: the requested one, or min(count, 8).</summary>
    public int Columns => RequestedColumns > 0 ? RequestedColumns : Math.Clamp(_images.Count, 1, 8);

    public int Rows => (_images.Count + Columns - 1) / Columns;

    /// <summary>Adds a PNG image.</summary>
    public ImageGrid Add(byte[] png, string caption = "")
    {
        _images.Add((Png.Decode(png), caption ?? ""));
        return this;
    }

    /// <summary>Adds an RGB image of shape (3, H, W) with values in [-1, 1] (clamped).</summary>
    public ImageGrid Add(float[,,] chw, string caption = "")
    {
        if (chw.GetLength(0) != 3) throw new ArgumentException($"An RGB image has shape (3, H, W); this one has {chw.GetLength(0)} channels.");
        int h = chw.GetLength(1), w = chw.GetLength(2);
        var flat = new float[3 * h * w];
        Buffer.BlockCopy(chw, 0, flat, 0, flat.Length * sizeof(float));
        return Add(flat, h, w, caption);
    }

    /// <summary>Adds an RGB image stored flat in (3, H, W) order with values in [-1, 1] (clamped).</summary>
    public ImageGrid Add(ReadOnlySpan<float> chw, int height, int width, string caption = "")
    {
        _images.Add((EmojiImageSet.ChwToRgba(chw, height, width), caption ?? ""));
        return this;
    }

    /// <summary>Headings written left of each row.</summary>
    public ImageGrid WithRowLabels(params string[] labels)
    {
        _rowLabels = labels;
        return this;
    }

    /// <summary>Headings written above each column.</summary>
    public ImageGrid WithColumnLabels(params string[] labels)
    {
        _columnLabels = labels;
        return this;
    }

    /// <summary>The grid as a PNG image (RGB, on white).</summary>
    public byte[] ToPng()
    {
        float fs = (float)Style.FontSize, cell = Style.CellSize, gap = Style.Gap;
        using var typeface = ChartImage.Typeface(Style.FontFamily);
        using var font = new SKFont(typeface, fs);
        using var bold = new SKFont(typeface, fs) { Embolden = true };
        using var titleFont = new SKFont(typeface, fs * 1.25f) { Embolden = true };
        int cols = Columns, rows = Math.Max(1, Rows);
        var captions = _images.Select(i => Wrap(i.Caption, font, cell)).ToList();
        int captionLines = captions.Count == 0 ? 0 : captions.Max(c => c.Count);
        float captionH = captionLines * fs * 1.25f + (captionLines > 0 ? 4 : 0);
        float rowLabelW = _rowLabels is { Length: > 0 } ? Math.Min(160, _rowLabels.Max(l => bold.MeasureText(l))) + 10 : 0;
        float colLabelH = _columnLabels is { Length: > 0 } ? fs * 1.5f : 0;
        float titleH = Title.Length > 0 ? fs * 1.25f + 12 : 0;
        float cellH = cell + captionH;
        float width = Math.Max(gap + rowLabelW + cols * (cell + gap), Title.Length > 0 ? titleFont.MeasureText(Title) + 2 * gap : 0);
        float height = gap + titleH + colLabelH + rows * (cellH + gap);
        int w = (int)Math.Ceiling(width), h = (int)Math.Ceiling(height);

        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var ink = new SKPaint { Color = new SKColor(0x22, 0x22, 0x22), IsAntialias = true })
        using (var frame = new SKPaint { Color = new SKColor(0xbb, 0xbb, 0xbb), Style = SKPaintStyle.Stroke, StrokeWidth = 1 })
        {
            canvas.Clear(SKColors.White);
            if (Title.Length > 0) canvas.DrawText(Title, width / 2, gap + fs * 1.25f, SKTextAlign.Center, titleFont, ink);
            float x0 = gap + rowLabelW, y0 = gap + titleH + colLabelH;
            if (_columnLabels is not null)
                for (int c = 0; c < Math.Min(cols, _columnLabels.Length); c++)
                    canvas.DrawText(Fit(_columnLabels[c], bold, cell + gap), x0 + c * (cell + gap) + cell / 2, y0 - fs * 0.5f, SKTextAlign.Center, bold, ink);
            if (_rowLabels is not null)
                for (int r = 0; r < Math.Min(rows, _rowLabels.Length); r++)
                    canvas.DrawText(Fit(_rowLabels[r], bold, 160), x0 - 10, y0 + r * (cellH + gap) + cell / 2 + fs * 0.35f, SKTextAlign.Right, bold, ink);
            var sampling = Style.Pixelated ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
            for (int i = 0; i < _images.Count; i++)
            {
                var image = _images[i].Image;
                int r = i / cols, c = i % cols;
                float scale = cell / Math.Max(image.Width, image.Height);
                float dw = image.Width * scale, dh = image.Height * scale;
                float cx = x0 + c * (cell + gap), cy = y0 + r * (cellH + gap);
                var dest = SKRect.Create(cx + (cell - dw) / 2, cy + (cell - dh) / 2, dw, dh);
                using (var sk = ToSkia(image)) canvas.DrawImage(sk, dest, sampling);
                canvas.DrawRect(dest, frame);
                for (int k = 0; k < captions[i].Count; k++)
                    canvas.DrawText(captions[i][k], cx + cell / 2, cy + cell + 4 + (k + 1) * fs * 1.2f, SKTextAlign.Center, font, ink);
            }
        }
        var pixels = new RgbaImage(w, h, bitmap.GetPixelSpan().ToArray());
        return Png.Encode(pixels, new PngEncoderOptions(PngColorType.Rgb));
    }

    /// <summary>A plain-text listing: size, layout and captions.</summary>
    public string Describe()
    {
        var sizes = _images.Select(i => $"{i.Image.Width}×{i.Image.Height}").Distinct().ToList();
        var head = $"ImageGrid{(Title.Length > 0 ? " \"" + Title + "\"" : "")}: {_images.Count.ToString(CultureInfo.InvariantCulture)} image{(_images.Count == 1 ? "" : "s")}" +
                   (sizes.Count > 0 ? $" ({string.Join(", ", sizes)})" : "") + $", {Columns} column{(Columns == 1 ? "" : "s")}";
        var lines = _images.Select((im, i) => $"  [{i.ToString(CultureInfo.InvariantCulture)}] {im.Caption}").Where(l => !l.EndsWith("] ", StringComparison.Ordinal));
        return string.Join("\n", new[] { head }.Concat(lines));
    }

    /// <summary>Writes the PNG to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => Workbook.AtomicFile.WriteAllBytes(path, ToPng());

    public bool TryRender(string mimeType, TextWriter writer)
    {
        switch (mimeType)
        {
            case MimeTypes.Png:
                writer.Write(Convert.ToBase64String(ToPng()));
                return true;
            case MimeTypes.PlainText:
                writer.Write(Describe());
                return true;
            default:
                return false;
        }
    }

    public override string ToString() => Describe();

    private static SKImage ToSkia(RgbaImage image)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        return SKImage.FromPixelCopy(info, image.Pixels, image.Width * 4);
    }

    /// <summary>Shortens <paramref name="text"/> with "…" so that it fits <paramref name="maxWidth"/> pixels.</summary>
    private static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 0; n--)
            if (font.MeasureText(text[..n] + "…") <= maxWidth) return text[..n] + "…";
        return "…";
    }

    /// <summary>Greedy word wrap into at most two lines of <paramref name="width"/> pixels; the second ends with "…" if text remains.</summary>
    private static List<string> Wrap(string text, SKFont font, float width)
    {
        var lines = new List<string>();
        if (string.IsNullOrWhiteSpace(text)) return lines;
        var current = "";
        bool truncated = false;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = current.Length == 0 ? word : current + " " + word;
            if (current.Length == 0 || font.MeasureText(candidate) <= width)
            {
                current = candidate;
                continue;
            }
            lines.Add(current);
            current = word;
            if (lines.Count == 2)
            {
                truncated = true;
                break;
            }
        }
        if (!truncated) lines.Add(current);
        if (truncated) lines[1] = Fit(lines[1] + " …", font, width) is var f && f.EndsWith('…') ? f : f + "…";
        return lines.Select(l => Fit(l, font, width)).ToList();
    }
}
