// A grid of images with captions (and optional row/column headings), as SVG with each image embedded as
// a base64 PNG <image>. Images are given as PNG bytes or as RGB float arrays of shape (3, H, W) in [-1, 1]
// (the diffusion model's output range). Small images are scaled up with pixelated rendering so that a
// 32×32 sample stays crisp. Captions wrap to two lines; the full caption is also the image's hover text.
// Notebooks get text/html (the SVG inline) and text/plain (a list of captions): nbconvert's HTML export
// sanitizes image/svg+xml outputs and drops <image> and <text>, while inline SVG in text/html survives
// everywhere; image/svg+xml is still available with display(grid, "image/svg+xml"), and Save writes a file.
// Embedding the PNGs once (not as both html and svg) keeps executed notebooks small.
using System.Globalization;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Layout of an image grid.</summary>
/// <param name="CellSize">Display size in pixels of each image's longer side (default 128).</param>
/// <param name="Gap">Space between cells in pixels (default 10).</param>
/// <param name="FontSize">Caption font size in pixels; the title is 1.25× (default 12).</param>
/// <param name="FontFamily">CSS font list (default: DejaVu Sans, then common sans-serif fonts).</param>
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

/// <summary>Images in a grid with captions; shown as SVG in notebooks.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.PlainText })]
public sealed class ImageGrid : IMimeRenderable
{
    private readonly List<(byte[] Png, int Width, int Height, string Caption)> _images = new();
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
        var (w, h) = Data.Png.ReadSize(png);
        _images.Add((png, w, h, caption ?? ""));
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
        _images.Add((Data.Png.Encode(Data.EmojiImageSet.ChwToRgba(chw, height, width), new Data.PngEncoderOptions(Data.PngColorType.Rgb)), width, height, caption ?? ""));
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

    /// <summary>The grid as a standalone SVG document.</summary>
    public string ToSvg()
    {
        double fs = Style.FontSize, cell = Style.CellSize, gap = Style.Gap;
        int cols = Columns, rows = Math.Max(1, Rows);
        int captionLines = _images.Count == 0 ? 0 : _images.Max(i => Wrap(i.Caption, fs, cell).Count);
        double captionH = captionLines * fs * 1.25 + (captionLines > 0 ? 4 : 0);
        double rowLabelW = _rowLabels is { Length: > 0 } ? Math.Min(160, _rowLabels.Max(l => SvgText.Width(l, fs))) + 10 : 0;
        double colLabelH = _columnLabels is { Length: > 0 } ? fs * 1.5 : 0;
        double titleH = Title.Length > 0 ? fs * 1.25 + 12 : 0;
        double cellH = cell + captionH;
        double width = gap + rowLabelW + cols * (cell + gap);
        double height = gap + titleH + colLabelH + rows * (cellH + gap);
        width = Math.Max(width, Title.Length > 0 ? SvgText.Width(Title, fs * 1.25) + 2 * gap : 0);

        var svg = new SvgWriter(width, height, Style.FontFamily, fs);
        if (Title.Length > 0) svg.Text(width / 2, gap + fs * 1.25, Title, "middle", $"font-size=\"{SvgText.Px(fs * 1.25)}\" font-weight=\"bold\"");
        double x0 = gap + rowLabelW, y0 = gap + titleH + colLabelH;
        if (_columnLabels is not null)
            for (int c = 0; c < Math.Min(cols, _columnLabels.Length); c++)
                svg.Text(x0 + c * (cell + gap) + cell / 2, y0 - fs * 0.5, SvgText.Fit(_columnLabels[c], fs, cell + gap), "middle", "font-weight=\"bold\"");
        if (_rowLabels is not null)
            for (int r = 0; r < Math.Min(rows, _rowLabels.Length); r++)
                svg.Text(x0 - 10, y0 + r * (cellH + gap) + cell / 2 + fs * 0.35, SvgText.Fit(_rowLabels[r], fs, 160), "end", "font-weight=\"bold\"");
        var rendering = Style.Pixelated ? " style=\"image-rendering:pixelated\"" : "";
        for (int i = 0; i < _images.Count; i++)
        {
            var (png, w, h, caption) = _images[i];
            int r = i / cols, c = i % cols;
            double scale = cell / Math.Max(w, h);
            double dw = w * scale, dh = h * scale;
            double cx = x0 + c * (cell + gap), cy = y0 + r * (cellH + gap);
            double ix = cx + (cell - dw) / 2, iy = cy + (cell - dh) / 2;
            svg.Raw("<image x=\"" + SvgText.Px(ix) + "\" y=\"" + SvgText.Px(iy) + "\" width=\"" + SvgText.Px(dw) + "\" height=\"" + SvgText.Px(dh) +
                    "\"" + rendering + " href=\"data:image/png;base64," + Convert.ToBase64String(png) + "\">" +
                    (caption.Length > 0 ? "<title>" + SvgText.Escape(caption) + "</title>" : "") + "</image>\n");
            svg.Rect(ix, iy, dw, dh, "fill=\"none\" stroke=\"#bbbbbb\" stroke-width=\"0.5\"");
            var lines = Wrap(caption, fs, cell);
            for (int k = 0; k < lines.Count; k++)
                svg.Text(cx + cell / 2, cy + cell + 4 + (k + 1) * fs * 1.2, lines[k], "middle", "fill=\"#222222\"");
        }
        return svg.Finish();
    }

    /// <summary>A plain-text listing: size, layout and captions.</summary>
    public string Describe()
    {
        var sizes = _images.Select(i => $"{i.Width}×{i.Height}").Distinct().ToList();
        var head = $"ImageGrid{(Title.Length > 0 ? " \"" + Title + "\"" : "")}: {_images.Count.ToString(CultureInfo.InvariantCulture)} image{(_images.Count == 1 ? "" : "s")}" +
                   (sizes.Count > 0 ? $" ({string.Join(", ", sizes)})" : "") + $", {Columns} column{(Columns == 1 ? "" : "s")}";
        var lines = _images.Select((im, i) => $"  [{i.ToString(CultureInfo.InvariantCulture)}] {im.Caption}").Where(l => !l.EndsWith("] ", StringComparison.Ordinal));
        return string.Join("\n", new[] { head }.Concat(lines));
    }

    /// <summary>Writes the SVG to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToSvg());

    public bool TryRender(string mimeType, TextWriter writer) => SvgFigure.TryRender(mimeType, writer, ToSvg, Describe);

    public override string ToString() => Describe();

    /// <summary>Greedy word wrap into at most two lines; the second ends with "…" if text remains.</summary>
    private static List<string> Wrap(string text, double fs, double width)
    {
        var lines = new List<string>();
        if (string.IsNullOrWhiteSpace(text)) return lines;
        int max = Math.Max(4, (int)(width / (fs * 0.6)));
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var current = "";
        bool truncated = false;
        foreach (var word in words)
        {
            var candidate = current.Length == 0 ? word : current + " " + word;
            if (candidate.Length <= max || current.Length == 0)
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
        if (!truncated && current.Length > 0) lines.Add(current);
        if (truncated) lines[1] = (lines[1].Length + 1 <= max ? lines[1] : lines[1][..(max - 1)]) + "…";
        return lines.Select(l => l.Length > max ? l[..(max - 1)] + "…" : l).ToList();
    }
}
