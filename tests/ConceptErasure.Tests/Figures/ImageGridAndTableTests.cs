// Image grids and tables. A grid is one PNG whose layout follows its columns, cell size and labels, with each
// image drawn (nearest neighbour) where its cell is, float images converted from [-1, 1]; it is deterministic.
// Tables.From makes a DataFrame with one typed column per property, and Show keeps at most 25 rows (the
// DataFrame formatter pages larger tables in by script, which static readers do not run).
using ConceptErasure.Data;
using ConceptErasure.Figures;
using Microsoft.Data.Analysis;

namespace ConceptErasure.Tests.Figures;

public class ImageGridAndTableTests
{
    private static float[,,] Solid(float r, float g, float b, int size = 4)
    {
        var img = new float[3, size, size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                (img[0, y, x], img[1, y, x], img[2, y, x]) = (r, g, b);
        return img;
    }

    [Fact]
    public void Image_grid_is_one_png_with_each_image_in_its_cell()
    {
        var style = new ImageGridStyle(CellSize: 64, Gap: 10);
        var grid = new ImageGrid("", columns: 2) { Style = style }
            .Add(Solid(1, -1, -1), "red")                      // (1, -1, -1) in [-1, 1] is pure red
            .Add(Solid(-1, -1, 1), "blue")
            .Add(Png.Encode(new RgbaImage(4, 4).OnBackground(0, 255, 0), new PngEncoderOptions(PngColorType.Rgb)), "green, from PNG bytes");
        var image = Png.Decode(grid.ToPng());
        Assert.Equal(10 + 2 * (64 + 10), image.Width);
        Assert.True(image.Height > 10 + 2 * (64 + 10), "two rows of cells plus captions");
        byte[] At(int x, int y) => image.Pixels.AsSpan((y * image.Width + x) * 4, 3).ToArray();
        Assert.Equal(new byte[] { 255, 0, 0 }, At(10 + 32, 10 + 32));              // centre of cell (0, 0)
        Assert.Equal(new byte[] { 0, 0, 255 }, At(10 + 74 + 32, 10 + 32));         // cell (0, 1)
        int rowPitch = (image.Height - 10) / 2;                                      // height = gap + 2 × (cell + captions + gap)
        Assert.Equal(new byte[] { 0, 255, 0 }, At(10 + 32, 10 + rowPitch + 32));     // cell (1, 0)
        Assert.Equal(grid.ToPng(), grid.ToPng());
        Assert.Equal(2, grid.Rows);
        Assert.StartsWith("ImageGrid: 3 images (4×4), 2 columns", grid.Describe());
        Assert.Contains("[2] green, from PNG bytes", grid.Describe());
    }

    [Fact]
    public void Image_grid_renders_png_and_text_only()
    {
        var grid = new ImageGrid("Samples").Add(Solid(0, 0, 0), "a cat").WithColumnLabels("seed 0").WithRowLabels("original");
        using var png = new StringWriter();
        Assert.True(grid.TryRender(ConceptErasure.Workbook.MimeTypes.Png, png));
        Assert.Equal(grid.ToPng(), Convert.FromBase64String(png.ToString()));
        Assert.False(grid.TryRender(ConceptErasure.Workbook.MimeTypes.Html, new StringWriter()));
        Assert.False(grid.TryRender(ConceptErasure.Workbook.MimeTypes.PlotlyJson, new StringWriter()));
    }

    private sealed record Row(string Name, int Count, double? Score, bool Ok);

    [Fact]
    public void Tables_from_records_have_one_typed_column_per_property()
    {
        var df = Tables.From(new[] { new Row("a", 1, 0.5, true), new Row("b", 2, null, false) });
        Assert.Equal(new[] { "Name", "Count", "Score", "Ok" }, df.Columns.Select(c => c.Name));
        Assert.Equal(new[] { typeof(string), typeof(int), typeof(double), typeof(bool) }, df.Columns.Select(c => c.DataType));
        Assert.Equal(2, df.Rows.Count);
        Assert.Equal(2, df["Count"][1]);
        Assert.Null(df["Score"][1]);
        var anonymous = Tables.From(new[] { new { concept = "cat", distance = 1.25 } });
        Assert.Equal("cat", anonymous["concept"][0]);
    }

    [Fact]
    public void Show_keeps_at_most_25_rows()
    {
        var df = Tables.From(Enumerable.Range(0, 100).Select(i => new { i }));
        Assert.Equal(25, df.Show().Rows.Count);
        Assert.Equal(10, df.Show(10).Rows.Count);
        Assert.Equal(3, Tables.From(Enumerable.Range(0, 3).Select(i => new { i })).Show().Rows.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => df.Show(26));
        Assert.IsType<DataFrame>(df.Show());
    }
}
