// Raster image grids for looking at the emoji world and at generated samples: rows × columns of images (e.g.
// concepts × styles), enlarged by nearest neighbour, with optional row and column captions in the workbook's 5×7
// BitmapFont, written as one PNG file (unlike Figures.ImageGrid, which renders SVG for notebooks). A missing cell
// (null, e.g. a style without its own art for a concept) is drawn as a grey cross.
namespace ConceptErasure.Data;

/// <summary>Layout of an image grid.</summary>
public sealed record RasterGridOptions(
    int Scale = 2,              // each image pixel becomes Scale × Scale grid pixels
    int Gap = 6,                // pixels between cells, and between labels and cells
    int Margin = 8,             // pixels around everything
    int TextScale = 2,          // font pixel size of the captions
    int MaxLabelWidth = 400,    // row captions wider than this (in pixels) are cut with ".."
    bool Frame = true);         // a light grey 1 px frame around each cell

public static class RasterGrid
{
    /// <summary>
    /// Lays out rows of images (ragged rows and null cells allowed) with optional captions; images are centred in
    /// cells as large as the largest image times Scale. The result is opaque, on white.
    /// </summary>
    public static RgbaImage Compose(IReadOnlyList<IReadOnlyList<RgbaImage?>> rows, IReadOnlyList<string>? rowLabels = null,
        IReadOnlyList<string>? columnLabels = null, RasterGridOptions? options = null)
    {
        var o = options ?? new RasterGridOptions();
        if (o.Scale < 1 || o.TextScale < 1 || o.Gap < 0 || o.Margin < 0)
            throw new ArgumentException($"Invalid grid options {o}.", nameof(options));
        if (rows.Count == 0) throw new ArgumentException("The grid has no rows.", nameof(rows));
        if (rowLabels is not null && rowLabels.Count != rows.Count)
            throw new ArgumentException($"{rowLabels.Count} row captions for {rows.Count} rows.", nameof(rowLabels));
        int columns = Math.Max(rows.Max(r => r.Count), columnLabels?.Count ?? 0);
        if (columns == 0) throw new ArgumentException("The grid has no columns.", nameof(rows));
        var images = rows.SelectMany(r => r).Where(i => i is not null).Select(i => i!).ToList();
        int imgW = images.Count > 0 ? images.Max(i => i.Width) * o.Scale : 32 * o.Scale;
        int imgH = images.Count > 0 ? images.Max(i => i.Height) * o.Scale : 32 * o.Scale;
        int textH = BitmapFont.GlyphHeight * o.TextScale;
        int colW = Math.Max(imgW, columnLabels?.Max(l => BitmapFont.MeasureWidth(l, o.TextScale)) ?? 0);
        int cellH = rowLabels is null ? imgH : Math.Max(imgH, textH);

        var fittedRowLabels = rowLabels?.Select(l => BitmapFont.Fit(l, o.MaxLabelWidth, o.TextScale)).ToList();
        int labelW = fittedRowLabels is null ? 0 : fittedRowLabels.Max(l => BitmapFont.MeasureWidth(l, o.TextScale)) + o.Gap;
        int headerH = columnLabels is null ? 0 : textH + o.Gap;
        int width = 2 * o.Margin + labelW + columns * colW + (columns - 1) * o.Gap;
        int height = 2 * o.Margin + headerH + rows.Count * cellH + (rows.Count - 1) * o.Gap;

        var grid = new RgbaImage(width, height);
        grid.Fill(0, 0, width, height, 255, 255, 255);
        int x0 = o.Margin + labelW, y0 = o.Margin + headerH;
        if (columnLabels is not null)
            for (int c = 0; c < columnLabels.Count; c++)
            {
                int w = BitmapFont.MeasureWidth(columnLabels[c], o.TextScale);
                BitmapFont.Draw(grid, columnLabels[c], x0 + c * (colW + o.Gap) + (colW - w) / 2, o.Margin, scale: o.TextScale);
            }
        for (int r = 0; r < rows.Count; r++)
        {
            int y = y0 + r * (cellH + o.Gap);
            if (fittedRowLabels is not null)
                BitmapFont.Draw(grid, fittedRowLabels[r], o.Margin, y + (cellH - textH) / 2, scale: o.TextScale);
            for (int c = 0; c < columns; c++)
            {
                int x = x0 + c * (colW + o.Gap) + (colW - imgW) / 2, yy = y + (cellH - imgH) / 2;
                var image = c < rows[r].Count ? rows[r][c] : null;
                if (image is null)
                {
                    if (c < rows[r].Count) DrawCross(grid, x, yy, imgW, imgH);
                    continue;
                }
                var big = image.Enlarge(o.Scale);
                grid.Blit(big, x + (imgW - big.Width) / 2, yy + (imgH - big.Height) / 2);
                if (o.Frame) DrawFrame(grid, x - 1, yy - 1, imgW + 2, imgH + 2);
            }
        }
        return grid;
    }

    /// <summary>Concepts (rows) × styles (columns) as the models see them (composited on white); pairs without the style's own art show a cross.</summary>
    public static RgbaImage Emoji(EmojiData data, IReadOnlyList<EmojiConcept> concepts, IReadOnlyList<EmojiStyle> styles,
        RasterGridOptions? options = null, Func<EmojiConcept, string>? caption = null, bool captions = true)
    {
        var set = data.Images(concepts, styles);
        var lookup = new Dictionary<(string, string), int>();
        for (int i = 0; i < set.Count; i++) lookup[(set.Samples[i].Concept.Name, set.Samples[i].Style.Name)] = i;
        var rows = concepts.Select(c => (IReadOnlyList<RgbaImage?>)styles
            .Select(s => lookup.TryGetValue((c.Name, s.Name), out int i) ? set.ToRgba(i) : null).ToList()).ToList();
        return Compose(rows,
            captions ? concepts.Select(c => caption?.Invoke(c) ?? c.Name).ToList() : null,
            captions ? styles.Select(s => s.Name).ToList() : null,
            options);
    }

    /// <summary>Writes a grid as an RGB PNG (atomically).</summary>
    public static void Save(RgbaImage grid, string path)
        => Png.Save(grid.IsOpaque() ? grid : grid.OnBackground(), path, new PngEncoderOptions(PngColorType.Rgb));

    private static void DrawFrame(RgbaImage g, int x, int y, int w, int h)
    {
        const byte grey = 215;
        g.Fill(x, y, w, 1, grey, grey, grey);
        g.Fill(x, y + h - 1, w, 1, grey, grey, grey);
        g.Fill(x, y, 1, h, grey, grey, grey);
        g.Fill(x + w - 1, y, 1, h, grey, grey, grey);
    }

    private static void DrawCross(RgbaImage g, int x, int y, int w, int h)
    {
        DrawFrame(g, x - 1, y - 1, w + 2, h + 2);
        for (int i = 0; i < Math.Min(w, h); i++)
        {
            int px = x + i * w / Math.Min(w, h), py = y + i * h / Math.Min(w, h);
            g.Fill(px, py, 1, 1, 170, 170, 170);
            g.Fill(x + w - 1 - (px - x), py, 1, 1, 170, 170, 170);
        }
    }
}
