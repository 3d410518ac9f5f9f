// Tests of the bitmap font and the image grid: glyph coverage and distinctness, exact pixels of a drawn glyph,
// grid geometry and cell contents on synthetic images, captions on/off, missing cells, and that the committed
// data/emoji/emojinette-grid.png is exactly what `workbook data grid` renders from the pinned data.
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class BitmapFontTests
{
    private const string Covered = "abcdefghijklmnopqrstuvwxyz0123456789 .,:;'\"-_()&!?*#/+=%<>";

    [Fact]
    public void Covered_characters_have_distinct_well_formed_glyphs()
    {
        Assert.All(Covered, c => Assert.True(BitmapFont.HasGlyph(c), $"no glyph for '{c}'"));
        Assert.All(Covered, c =>
        {
            var g = BitmapFont.Glyph(c);
            Assert.Equal(BitmapFont.GlyphHeight, g.Count);
            Assert.All(g, row => Assert.Equal(BitmapFont.GlyphWidth, row.Length));
        });
        var shapes = Covered.Select(c => string.Join("|", BitmapFont.Glyph(c))).ToList();
        Assert.Equal(shapes.Count, shapes.Distinct().Count());
        Assert.All(Covered.Where(c => c != ' '), c => Assert.Contains('#', string.Concat(BitmapFont.Glyph(c))));
    }

    [Fact]
    public void Case_and_diacritics_fold_and_unknown_characters_draw_a_box()
    {
        Assert.Equal(BitmapFont.Glyph('a'), BitmapFont.Glyph('A'));
        Assert.Equal(BitmapFont.Glyph('e'), BitmapFont.Glyph('É'));
        Assert.False(BitmapFont.HasGlyph('§'));
        Assert.Equal("#####", BitmapFont.Glyph('§')[0]);
        Assert.Equal("#...#", BitmapFont.Glyph('§')[3]);
    }

    [Fact]
    public void Draw_sets_exactly_the_glyph_pixels_at_scale()
    {
        var img = new RgbaImage(20, 20);
        BitmapFont.Draw(img, "l", 1, 2, r: 9, g: 8, b: 7, scale: 2);
        var glyph = BitmapFont.Glyph('l');
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++)
            {
                int gx = (x - 1) / 2, gy = (y - 2) / 2;
                bool ink = x >= 1 && y >= 2 && gx < 5 && gy < 9 && glyph[gy][gx] == '#';
                Assert.Equal(ink ? new byte[] { 9, 8, 7, 255 } : new byte[4], img.Pixel(x, y).ToArray());
            }
        Assert.Equal(11, BitmapFont.MeasureWidth("ab"));
        Assert.Equal(22, BitmapFont.MeasureWidth("ab", 2));
        Assert.Equal("abc..", BitmapFont.Fit("abcdefgh", BitmapFont.MeasureWidth("abc..")));
    }
}

public class RasterGridTests
{
    private static RgbaImage Solid(int w, int h, byte r, byte g, byte b)
    {
        var img = new RgbaImage(w, h);
        img.Fill(0, 0, w, h, r, g, b);
        return img;
    }

    [Fact]
    public void Grid_geometry_and_cells_without_captions()
    {
        var o = new RasterGridOptions(Scale: 2, Gap: 3, Margin: 5, Frame: false);
        var rows = new List<IReadOnlyList<RgbaImage?>>
        {
            new[] { Solid(4, 4, 255, 0, 0), Solid(4, 4, 0, 255, 0), null },
            new[] { Solid(4, 4, 0, 0, 255) },
        };
        var grid = RasterGrid.Compose(rows, options: o);
        Assert.Equal((2 * 5 + 3 * 8 + 2 * 3, 2 * 5 + 2 * 8 + 3), (grid.Width, grid.Height));
        Assert.True(grid.IsOpaque());
        Assert.Equal([255, 0, 0, 255], grid.Pixel(5, 5).ToArray());
        Assert.Equal([255, 0, 0, 255], grid.Pixel(12, 12).ToArray());
        Assert.Equal([255, 255, 255, 255], grid.Pixel(13, 5).ToArray());          // gap
        Assert.Equal([0, 255, 0, 255], grid.Pixel(5 + 8 + 3, 5).ToArray());
        Assert.Equal([0, 0, 255, 255], grid.Pixel(5, 5 + 8 + 3).ToArray());
        Assert.NotEqual([255, 255, 255, 255], grid.Pixel(5 + 2 * 11 + 1, 5 + 1).ToArray()); // null cell: cross
        Assert.Equal([255, 255, 255, 255], grid.Pixel(5 + 2 * 11 + 1, 5 + 11 + 1).ToArray()); // short row: blank
    }

    [Fact]
    public void Captions_add_a_label_column_and_a_header_with_ink()
    {
        var o = new RasterGridOptions(Scale: 1, Gap: 2, Margin: 1, TextScale: 1);
        var rows = new List<IReadOnlyList<RgbaImage?>> { new[] { Solid(8, 8, 0, 0, 0) } };
        var plain = RasterGrid.Compose(rows, options: o);
        var labelled = RasterGrid.Compose(rows, ["fish"], ["twitter"], o);
        int labelW = BitmapFont.MeasureWidth("fish") + 2, colW = BitmapFont.MeasureWidth("twitter");
        Assert.Equal(2 * 1 + labelW + colW, labelled.Width);
        Assert.Equal(2 * 1 + BitmapFont.GlyphHeight + 2 + BitmapFont.GlyphHeight, labelled.Height);
        int ink = 0;
        for (int y = 0; y < labelled.Height; y++)
            for (int x = 0; x < labelW; x++)
                if (labelled.Pixel(x, y)[0] == 0) ink++;
        Assert.True(ink > 20);
        Assert.Equal(10, plain.Width);
        Assert.Throws<ArgumentException>(() => RasterGrid.Compose(rows, ["a", "b"]));
    }

    [Fact]
    public void Committed_emojinette_grid_is_current()
    {
        var set = ConceptSets.Load(ConceptSets.Emojinette);
        var data = RealEmojiData.Value;
        var fresh = RasterGrid.Emoji(data, set.Resolve(data.Index), EmojiStyle.Default);
        var committed = Png.Load(Path.Combine(DataPaths.EmojiDataDir(), "emojinette-grid.png"));
        Assert.Equal((fresh.Width, fresh.Height), (committed.Width, committed.Height));
        Assert.Equal(fresh.Pixels, committed.Pixels); // else: run `workbook data grid`
    }
}
