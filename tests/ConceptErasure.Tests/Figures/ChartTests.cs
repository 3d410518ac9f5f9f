// The SVG figures: each chart is well-formed XML (XDocument) with the elements that carry its data —
// bins, points with hover titles, highlight rings, error bands, error bars, heatmap cells and colour bar,
// embedded PNG images with captions — plus nice ticks, determinism, and clear errors for mismatched input.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Xml.Linq;
using ConceptErasure.Figures;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Figures;

public class ChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Parse(string svg)
    {
        var doc = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        return doc;
    }

    private static IEnumerable<string> Titles(XDocument doc) => doc.Descendants(Svg + "title").Select(t => t.Value);

    private static IEnumerable<string> Texts(XDocument doc) => doc.Descendants(Svg + "text").Select(t => t.Value);

    [Fact]
    public void Histogram_has_one_bar_per_nonempty_bin_with_counts_in_titles()
    {
        var h = new Histogram("Scores", "score", "count", bins: 4).Add("erased", new[] { 0.0, 0.1, 0.9, 1.0, 1.0, double.NaN }).Add("original", new[] { 0.5 });
        var doc = Parse(h.ToSvg());
        var titles = Titles(doc).ToList();
        Assert.Contains("erased: [0, 0.25) 2", titles);
        Assert.Contains("erased: [0.75, 1) 3", titles);
        Assert.Contains("original: [0.5, 0.75) 1", titles);
        Assert.Equal(3, titles.Count);
        Assert.Contains("Scores", Texts(doc));
        Assert.Contains("erased", Texts(doc));   // legend, since there are two series
        Assert.Equal(new[] { 2.0, 0, 0, 3 }, h.Heights()[0]);
    }

    [Fact]
    public void Normalized_histogram_sums_to_one_per_series()
    {
        var h = new Histogram("n", bins: 5) { Normalize = true }.Add("a", Enumerable.Range(0, 37).Select(i => (double)i));
        Assert.Equal(1.0, h.Heights()[0].Sum(), 9);
    }

    [Fact]
    public void Scatter_points_carry_hover_labels_and_highlights_are_ringed_and_annotated()
    {
        var s = new ScatterChart("Embeddings", "pc1", "pc2")
            .Add("concepts", new[] { 0.0, 1.0, 2.0 }, new[] { 0.0, 1.0, 4.0 }, new[] { "cat", "dog", "van gogh" })
            .Highlight("van gogh")
            .Annotate(0.5, 0.5, "centroid");
        var doc = Parse(s.ToSvg());
        Assert.Equal(new[] { "cat (0, 0)", "dog (1, 1)", "van gogh (2, 4)" }, Titles(doc));
        var rings = doc.Descendants(Svg + "circle").Where(c => (string?)c.Attribute("fill") == "none").ToList();
        Assert.Equal(2, rings.Count);
        Assert.Contains("van gogh", Texts(doc));
        Assert.Contains("centroid", Texts(doc));
    }

    [Fact]
    public void Line_chart_draws_the_band_as_a_polygon_around_the_mean()
    {
        var x = new[] { 0.0, 1, 2, 3 };
        var l = new LineChart("Loss", "step", "loss").Add("run", x, new[] { 4.0, 3, 2, 1 }, band: new[] { 0.5, 0.5, 0.5, 0.5 }).Add("other", x, new[] { 1.0, 1, 1, 1 });
        var doc = Parse(l.ToSvg());
        var polygon = Assert.Single(doc.Descendants(Svg + "polygon"));
        Assert.Equal(8, ((string)polygon.Attribute("points")!).Split(' ').Length);
        Assert.Equal(2, doc.Descendants(Svg + "polyline").Count());
        Assert.Contains("run: x=2, y=2 ± 0.5", Titles(doc));
        Assert.Contains("other", Texts(doc));
    }

    [Fact]
    public void Bar_chart_has_a_bar_per_series_and_category_and_error_bars()
    {
        var b = new BarChart("Accuracy", "method", "accuracy", new[] { "ESD", "UCE", "none" })
            .Add("target", new[] { 0.1, 0.2, 0.9 }, new[] { 0.01, 0.02, 0.03 })
            .Add("others", new[] { 0.8, 0.85, 0.9 });
        var doc = Parse(b.ToSvg());
        var bars = doc.Descendants(Svg + "rect").Where(r => r.Element(Svg + "title") is not null).ToList();
        Assert.Equal(6, bars.Count);
        Assert.Contains("target · UCE: 0.2 ± 0.02", Titles(doc));
        var whiskers = doc.Descendants(Svg + "line").Count(l => (string?)l.Attribute("stroke") == "#222222");
        Assert.Equal(9, whiskers);   // three lines (stem and two caps) per error bar
        Assert.Contains("ESD", Texts(doc));
    }

    [Fact]
    public void Heatmap_has_a_cell_per_value_labels_and_a_colour_bar()
    {
        var values = new double[,] { { 0, 1, 2 }, { 3, 4, 5 } };
        var h = new Heatmap("Leakage", values, new[] { "cat", "dog" }, new[] { "a", "b", "c" });
        var doc = Parse(h.ToSvg());
        Assert.Contains("dog · c: 5", Titles(doc));
        Assert.Equal(6, Titles(doc).Count());
        Assert.Contains("cat", Texts(doc));
        Assert.Contains("b", Texts(doc));
        var fills = doc.Descendants(Svg + "rect").Select(r => (string?)r.Attribute("fill")).ToList();
        Assert.Contains(Palette.Sequential(0), fills);
        Assert.Contains(Palette.Sequential(1), fills);
        Assert.True(fills.Count >= 6 + 32, "expected the cells plus the 32 colour-bar slices");
    }

    [Fact]
    public void Image_grid_embeds_pngs_with_captions_and_converts_float_images()
    {
        var chw = new float[3, 2, 2];
        chw[0, 0, 0] = 1f;    // red channel of the top-left pixel: 255
        chw[1, 0, 0] = -1f;   // green: 0
        chw[2, 0, 0] = 0f;    // blue: 128 (0 maps to the middle)
        var png = ConceptErasure.Data.Png.Encode(new ConceptErasure.Data.RgbaImage(2, 2).OnBackground(), new ConceptErasure.Data.PngEncoderOptions(ConceptErasure.Data.PngColorType.Rgb));
        var grid = new ImageGrid("Samples", columns: 2).Add(chw, "a cat").Add(png, "a van gogh painting of a very long caption that wraps").Add(png);
        var doc = Parse(grid.ToSvg());
        var images = doc.Descendants(Svg + "image").ToList();
        Assert.Equal(3, images.Count);
        foreach (var im in images) Assert.StartsWith("data:image/png;base64,", (string)im.Attribute("href")!);
        Assert.Contains("a cat", Texts(doc));
        Assert.Contains("a van gogh painting of a very long caption that wraps", Titles(doc));
        Assert.Equal(png, Convert.FromBase64String(((string)images[1].Attribute("href")!)["data:image/png;base64,".Length..]));

        var first = Convert.FromBase64String(((string)images[0].Attribute("href")!)["data:image/png;base64,".Length..]);
        var decoded = ConceptErasure.Data.Png.Decode(first);
        Assert.Equal((2, 2), (decoded.Width, decoded.Height));
        Assert.Equal(new byte[] { 255, 0, 128 }, decoded.Pixels[..3]);
        Assert.StartsWith("ImageGrid \"Samples\": 3 images (2×2), 2 columns", grid.Describe());
        var bundle = MimeRenderer.Render(grid);
        Assert.Equal(new[] { MimeTypes.Html, MimeTypes.PlainText }, bundle.MimeTypes);
        Assert.StartsWith("<svg", bundle[MimeTypes.Html]);
    }

    [Fact]
    public void Nice_ticks_are_round_and_cover_the_range()
    {
        var t = NiceTicks.For(0.013, 0.87, 5);
        Assert.Equal(0.0, t.Min);
        Assert.Equal(1.0, t.Max, 9);
        Assert.Equal(0.2, t.Step, 9);
        Assert.Equal(new[] { "0.0", "0.2", "0.4", "0.6", "0.8", "1.0" }, t.Values().Select(t.Label));
        var big = NiceTicks.For(-1234, 5678, 5);
        Assert.Equal(new[] { "-2000", "0", "2000", "4000", "6000" }, big.Values().Select(big.Label));
        var flat = NiceTicks.For(3, 3, 5);
        Assert.True(flat.Min < 3 && flat.Max > 3);
    }

    [Fact]
    public void Svg_is_deterministic_and_escapes_text()
    {
        LineChart Make() => new LineChart("a < b & \"c\"", "x", "y").Add("s", new[] { 0.1, 0.2 }, new[] { 1.0 / 3, 2.0 / 3 });
        var svg = Make().ToSvg();
        Assert.Equal(svg, Make().ToSvg());
        Assert.Contains("a &lt; b &amp; &quot;c&quot;", svg);
        Assert.Contains("a < b & \"c\"", Texts(Parse(svg)));
        Assert.DoesNotContain(",3333", svg);
    }

    [Fact]
    public void Mismatched_lengths_fail_with_one_clear_message()
    {
        var e = Assert.Throws<ArgumentException>(() => new ScatterChart("s").Add("a", new[] { 1.0, 2.0 }, new[] { 1.0 }));
        Assert.Equal("Series 'a' y has 1 values but the x values have 2; they must match.", e.Message);
        Assert.Throws<ArgumentException>(() => new BarChart("b", "x", "y", new[] { "p", "q" }).Add("s", new[] { 1.0 }));
        Assert.Throws<ArgumentException>(() => new Heatmap("h", new double[2, 2], rowLabels: new[] { "only one" }));
    }

    [Fact]
    public void Html_table_renders_headers_rows_and_escapes_cells()
    {
        var t = new HtmlTable("Results", new[] { "method", "acc" }).AddRow("ESD <x>", 0.123456).AddRow("UCE", 1);
        var html = XDocument.Parse(t.ToHtml());
        Assert.Equal(new[] { "method", "acc" }, html.Descendants("th").Select(e => e.Value));
        Assert.Equal(new[] { "ESD <x>", "0.1235", "UCE", "1" }, html.Descendants("td").Select(e => e.Value));
        Assert.Equal(new[] { "left", "right" }, html.Descendants("th").Select(e => (string?)e.Attribute("align")));
        Assert.Equal("Results", html.Descendants("caption").Single().Value);
        Assert.Equal("Results\nmethod   acc\n-------  ------\nESD <x>  0.1235\nUCE           1", t.ToText());
        var fromRecords = HtmlTable.From(new[] { new Row("a", 1), new Row("b", 2) });
        Assert.Equal(new[] { "Name", "Value" }, fromRecords.Columns);
        Assert.Equal(2, fromRecords.RowCount);
        Assert.True(MimeRenderer.Render(t).Contains(MimeTypes.Html));
    }

    private sealed record Row(string Name, int Value);
}
