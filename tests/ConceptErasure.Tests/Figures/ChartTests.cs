// The charts' two renderings. The Plotly figure carries the data that defines each chart — bin heights,
// points with hover labels, the highlight ring trace, the band polygon, error bars, the heatmap matrix and
// colour scale — with six-significant-digit numbers and null for non-finite values; the PNG is a valid image
// of the chart's size, not blank, drawn in the chart's colours; both are deterministic. Bad input fails with
// one clear message.
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Figures;

namespace ConceptErasure.Tests.Figures;

public class ChartTests
{
    private static JsonObject Figure(Chart chart)
    {
        var root = JsonNode.Parse(chart.ToPlotlyJson())!.AsObject();
        Assert.Equal(chart.Style.Width, (int)root["layout"]!["width"]!);
        Assert.Equal(chart.Style.Height, (int)root["layout"]!["height"]!);
        return root;
    }

    private static JsonArray Traces(JsonObject figure) => figure["data"]!.AsArray();

    private static double?[] Numbers(JsonNode? node) => node!.AsArray().Select(n => n is null ? (double?)null : (double)n).ToArray();

    private static string[] Strings(JsonNode? node) => node!.AsArray().Select(n => (string)n!).ToArray();

    /// <summary>Decodes the PNG and checks its size and that it is not one flat colour.</summary>
    private static RgbaImage Image(Chart chart)
    {
        var image = Png.Decode(chart.ToPng());
        Assert.Equal((chart.Style.Width, chart.Style.Height), (image.Width, image.Height));
        Assert.True(Enumerable.Range(0, image.Pixels.Length / 4).Select(i => image.Pixels[i * 4] << 16 | image.Pixels[i * 4 + 1] << 8 | image.Pixels[i * 4 + 2]).Distinct().Count() > 10,
            "the PNG is (nearly) blank");
        return image;
    }

    /// <summary><paramref name="hex"/> drawn with <paramref name="alpha"/> on white, as "#rrggbb".</summary>
    private static string OnWhite(string hex, double alpha)
    {
        string Channel(int at) => ((int)Math.Round(255 * (1 - alpha) + Convert.ToInt32(hex[at..(at + 2)], 16) * alpha)).ToString("x2");
        return "#" + Channel(1) + Channel(3) + Channel(5);
    }

    /// <summary>How many pixels are within a small distance of <paramref name="hex"/>.</summary>
    private static int PixelsNear(RgbaImage image, string hex, int tolerance = 40)
    {
        int r = Convert.ToInt32(hex[1..3], 16), g = Convert.ToInt32(hex[3..5], 16), b = Convert.ToInt32(hex[5..7], 16), n = 0;
        for (int i = 0; i < image.Pixels.Length; i += 4)
            if (Math.Abs(image.Pixels[i] - r) + Math.Abs(image.Pixels[i + 1] - g) + Math.Abs(image.Pixels[i + 2] - b) <= tolerance) n++;
        return n;
    }

    [Fact]
    public void Histogram_figure_has_the_bins_of_each_series_with_hover_labels()
    {
        var h = new Histogram("Scores", "score", "count", bins: 4).Add("erased", new[] { 0.0, 0.1, 0.9, 1.0, 1.0, double.NaN }).Add("original", new[] { 0.5 });
        Assert.Equal(new[] { 2.0, 0, 0, 3 }, h.Heights()[0]);
        var traces = Traces(Figure(h));
        Assert.Equal(2, traces.Count);
        Assert.Equal("bar", (string?)traces[0]!["type"]);
        Assert.Equal(new double?[] { 0.125, 0.375, 0.625, 0.875 }, Numbers(traces[0]!["x"]));
        Assert.Equal(new double?[] { 2, 0, 0, 3 }, Numbers(traces[0]!["y"]));
        Assert.Equal(0.25, (double)traces[0]!["width"]!);
        Assert.Contains("erased: [0.75, 1) 3", Strings(traces[0]!["hovertext"]));
        Assert.Contains("original: [0.5, 0.75) 1", Strings(traces[1]!["hovertext"]));
        Assert.Equal("Scores", (string?)Figure(h)["layout"]!["title"]!["text"]);
        Assert.True(PixelsNear(Image(h), OnWhite(Palette.Series(0), 0.45), 30) > 100, "the first series' bars are missing from the PNG");
    }

    [Fact]
    public void Histogram_marks_are_dashed_lines_with_their_text_in_both_renderings()
    {
        var plain = new Histogram("Spectrum", bins: 10).Add("words", Enumerable.Range(0, 50).Select(i => i / 10.0));
        var marked = new Histogram("Spectrum", bins: 10).Add("words", Enumerable.Range(0, 50).Select(i => i / 10.0)).Mark(1.5, "\"\"").Mark(double.NaN, "dropped").Mark(4, "an emoji");
        Assert.Equal(new[] { (1.5, "\"\""), (4.0, "an emoji") }, marked.Marks);
        var layout = Figure(marked)["layout"]!;
        var shapes = layout["shapes"]!.AsArray();
        Assert.Equal(2, shapes.Count);
        Assert.Equal(1.5, (double)shapes[0]!["x0"]!);
        Assert.Equal("dash", (string?)shapes[0]!["line"]!["dash"]);
        Assert.Equal(new[] { "\"\"", "an emoji" }, layout["annotations"]!.AsArray().Select(a => (string?)a!["text"]));
        Assert.Null(Figure(plain)["layout"]!["shapes"]);
        Assert.True(PixelsNear(Image(marked), Palette.Highlight, 40) > PixelsNear(Image(plain), Palette.Highlight, 40) + 50, "the marks are missing from the PNG");
    }

    [Fact]
    public void Normalized_histogram_sums_to_one_per_series()
    {
        var h = new Histogram("n", bins: 5) { Normalize = true }.Add("a", Enumerable.Range(0, 37).Select(i => (double)i));
        Assert.Equal(1.0, h.Heights()[0].Sum(), 9);
    }

    [Fact]
    public void Scatter_points_carry_hover_labels_and_highlights_get_a_ring_trace_with_their_text()
    {
        var s = new ScatterChart("Embeddings", "pc1", "pc2")
            .Add("concepts", new[] { 0.0, 1.0, 2.0 }, new[] { 0.0, 1.0, 4.0 }, new[] { "cat", "dog", "van gogh" })
            .Highlight("van gogh")
            .Annotate(0.5, 0.5, "centroid");
        var traces = Traces(Figure(s));
        Assert.Equal(new[] { "cat (0, 0)", "dog (1, 1)", "van gogh (2, 4)" }, Strings(traces[0]!["hovertext"]));
        Assert.Equal("markers", (string?)traces[0]!["mode"]);
        var ring = traces[1]!;
        Assert.Equal("circle-open", (string?)ring["marker"]!["symbol"]);
        Assert.Equal(new[] { "van gogh", "centroid" }, Strings(ring["text"]));
        Assert.Equal(new double?[] { 2, 0.5 }, Numbers(ring["x"]));
        Assert.False((bool)ring["showlegend"]!);
        Assert.True(PixelsNear(Image(s), Palette.Highlight) > 20, "the highlight ring is missing from the PNG");
    }

    [Fact]
    public void Line_chart_draws_the_band_as_a_filled_polygon_around_the_mean()
    {
        var x = new[] { 0.0, 1, 2, 3 };
        var l = new LineChart("Loss", "step", "loss").Add("run", x, new[] { 4.0, 3, 2, 1 }, band: new[] { 0.5, 0.5, 0.5, 0.5 }).Add("other", x, new[] { 1.0, 1, 1, 1 });
        var traces = Traces(Figure(l));
        Assert.Equal(3, traces.Count);   // band, run, other
        var band = traces[0]!;
        Assert.Equal("toself", (string?)band["fill"]);
        Assert.Equal(new double?[] { 0, 1, 2, 3, 3, 2, 1, 0 }, Numbers(band["x"]));
        Assert.Equal(new double?[] { 4.5, 3.5, 2.5, 1.5, 0.5, 1.5, 2.5, 3.5 }, Numbers(band["y"]));
        Assert.Contains("run: x=2, y=2 ± 0.5", Strings(traces[1]!["hovertext"]));
        Assert.Equal("other", (string?)traces[2]!["name"]);
        Assert.True((bool)Figure(l)["layout"]!["showlegend"]!);
        Image(l);
    }

    [Fact]
    public void Bar_chart_has_a_trace_per_series_with_error_bars()
    {
        var b = new BarChart("Accuracy", "method", "accuracy", new[] { "ESD", "UCE", "none" })
            .Add("target", new[] { 0.1, 0.2, 0.9 }, new[] { 0.01, 0.02, 0.03 })
            .Add("others", new[] { 0.8, 0.85, 0.9 });
        var figure = Figure(b);
        var traces = Traces(figure);
        Assert.Equal(new[] { "ESD", "UCE", "none" }, Strings(traces[0]!["x"]));
        Assert.Equal(new double?[] { 0.01, 0.02, 0.03 }, Numbers(traces[0]!["error_y"]!["array"]));
        Assert.Null(traces[1]!["error_y"]);
        Assert.Contains("target · UCE: 0.2 ± 0.02", Strings(traces[0]!["hovertext"]));
        Assert.Equal("group", (string?)figure["layout"]!["barmode"]);
        var image = Image(b);
        Assert.True(PixelsNear(image, OnWhite(Palette.Series(0), 0.85), 30) > 200 && PixelsNear(image, OnWhite(Palette.Series(1), 0.85), 30) > 200,
            "a series' bars are missing from the PNG");
    }

    [Fact]
    public void Heatmap_has_the_matrix_labels_and_the_viridis_scale()
    {
        var values = new double[,] { { 0, 1, 2 }, { 3, 4, double.NaN } };
        var h = new Heatmap("Leakage", values, new[] { "cat", "dog" }, new[] { "a", "b", "c" });
        var figure = Figure(h);
        var trace = Traces(figure)[0]!;
        Assert.Equal(new double?[] { 3, 4, null }, Numbers(trace["z"]![1]));
        Assert.Equal(new[] { "cat", "dog" }, Strings(trace["y"]));
        Assert.Equal("dog · b: 4", (string?)trace["hovertext"]![1]![1]);
        Assert.Equal((0.0, 4.0), ((double)trace["zmin"]!, (double)trace["zmax"]!));
        Assert.Equal(Palette.Sequential(0), (string?)trace["colorscale"]![0]![1]);
        Assert.Equal(Palette.Sequential(1), (string?)trace["colorscale"]!.AsArray()[^1]![1]);
        Assert.Equal("reversed", (string?)figure["layout"]!["yaxis"]!["autorange"]);
        Assert.True(PixelsNear(Image(h), Palette.Sequential(1), 30) > 200, "the top of the colour map is missing from the PNG");
    }

    [Fact]
    public void Renderings_are_deterministic_and_round_to_six_digits()
    {
        LineChart Make() => new LineChart("a < b & \"c\"", "x", "y").Add("s", new[] { 0.1, 0.2 }, new[] { 1.0 / 3, 2.0 / 3 });
        Assert.Equal(Make().ToPlotlyJson(), Make().ToPlotlyJson());
        Assert.Equal(Make().ToPng(), Make().ToPng());
        Assert.Equal(new double?[] { 0.333333, 0.666667 }, Numbers(Traces(Figure(Make()))[0]!["y"]));
        Assert.Equal("a < b & \"c\"", (string?)Figure(Make())["layout"]!["title"]!["text"]);
    }

    [Fact]
    public void Save_writes_png_or_plotly_json_by_extension()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "chart-tests-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var chart = new BarChart("t", "x", "y", new[] { "a" }).Add("s", new[] { 1.0 });
            chart.Save(Path.Combine(dir, "c.png"));
            chart.Save(Path.Combine(dir, "c.json"));
            Assert.Equal(chart.ToPng(), File.ReadAllBytes(Path.Combine(dir, "c.png")));
            Assert.Equal(chart.ToPlotlyJson(), File.ReadAllText(Path.Combine(dir, "c.json")));
            Assert.Throws<ArgumentException>(() => chart.Save(Path.Combine(dir, "c.svg")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Mismatched_lengths_fail_with_one_clear_message()
    {
        var e = Assert.Throws<ArgumentException>(() => new ScatterChart("s").Add("a", new[] { 1.0, 2.0 }, new[] { 1.0 }));
        Assert.Equal("Series 'a' y has 1 values but the x values have 2; they must match.", e.Message);
        Assert.Throws<ArgumentException>(() => new BarChart("b", "x", "y", new[] { "p", "q" }).Add("s", new[] { 1.0 }));
        Assert.Throws<ArgumentException>(() => new Heatmap("h", new double[2, 2], rowLabels: new[] { "only one" }));
    }
}
