// The x–y charts of the workbook, built fluently and shown by returning them from a cell (or display(chart)):
//   Histogram     distributions of one or more series over shared bins
//   ScatterChart  points with hover labels; Highlight/Annotate ring points and write a note beside them
//   LineChart     series with an optional error band (mean ± band)
// Each renders as a Plotly figure (every bin, point and line carries hover text) and as a PNG (Chart.cs).
// BarChart and Heatmap are in CategoryCharts.cs.
using ScottPlot;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Histogram of one or more series over shared bins.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText })]
public sealed class Histogram : Chart
{
    private readonly List<(string Name, double[] Values)> _series = new();

    /// <param name="bins">Number of equal-width bins over the range of all series.</param>
    public Histogram(string title, string xLabel = "value", string yLabel = "count", int bins = 30) : base(title, xLabel, yLabel)
    {
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), "A histogram needs at least one bin.");
        Bins = bins;
    }

    public int Bins { get; }

    /// <summary>Show each series' bins as fractions of that series (default false: counts).</summary>
    public bool Normalize { get; init; }

    /// <summary>Lower edge of the first bin (default: smallest value).</summary>
    public double? Min { get; init; }

    /// <summary>Upper edge of the last bin (default: largest value).</summary>
    public double? Max { get; init; }

    /// <summary>Adds a series; non-finite values are ignored.</summary>
    public Histogram Add(string name, IEnumerable<double> values)
    {
        _series.Add((name, values.Where(double.IsFinite).ToArray()));
        return this;
    }

    private readonly List<(double X, string Text)> _marks = new();

    /// <summary>Draws a dashed vertical line at <paramref name="x"/> labelled <paramref name="text"/> (where one value —
    /// the empty prompt, a neighbour — sits in the distribution).</summary>
    public Histogram Mark(double x, string text)
    {
        if (double.IsFinite(x)) _marks.Add((x, text));
        return this;
    }

    /// <summary>The marked positions with their text, in the order added.</summary>
    public IReadOnlyList<(double X, string Text)> Marks => _marks;

    /// <summary>The bin edges (Bins + 1 values).</summary>
    public double[] Edges()
    {
        var all = _series.SelectMany(s => s.Values).ToList();
        double lo = Min ?? (all.Count > 0 ? all.Min() : 0), hi = Max ?? (all.Count > 0 ? all.Max() : 1);
        if (hi <= lo) (lo, hi) = (lo - 0.5, lo + 0.5);
        return Enumerable.Range(0, Bins + 1).Select(i => lo + (hi - lo) * i / Bins).ToArray();
    }

    /// <summary>Per-series bin heights (counts, or fractions when Normalize); the last bin includes its upper edge.</summary>
    public double[][] Heights()
    {
        var edges = Edges();
        double lo = edges[0], hi = edges[^1];
        return _series.Select(s =>
        {
            var h = new double[Bins];
            foreach (var v in s.Values)
            {
                if (v < lo || v > hi) continue;
                h[Math.Min(Bins - 1, (int)((v - lo) / (hi - lo) * Bins))]++;
            }
            if (Normalize && s.Values.Length > 0) for (int i = 0; i < h.Length; i++) h[i] /= s.Values.Length;
            return h;
        }).ToArray();
    }

    public override string Describe()
    {
        var edges = Edges();
        var parts = _series.Select(s => $"{s.Name}: {Count(s.Values.Length, "value")}");
        return $"Histogram{Quote(Title)}: {Count(_series.Count, "series", "series")} ({string.Join(", ", parts)}); " +
               $"{Count(Bins, "bin")} over [{ChartText.Value(edges[0])}, {ChartText.Value(edges[^1])}]";
    }

    /// <summary>Hover text of one bin, e.g. "erased: [0.25, 0.5) 3".</summary>
    public string BinLabel(int series, int bin)
    {
        var edges = Edges();
        var h = Heights()[series][bin];
        var value = Normalize ? ChartText.Value(h) : h.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
        return $"{_series[series].Name}: [{ChartText.Value(edges[bin])}, {ChartText.Value(edges[bin + 1])}) {value}";
    }

    private double Opacity => _series.Count > 1 ? 0.45 : 0.8;

    private protected override void BuildFigure(PlotlyFigure figure)
    {
        var edges = Edges();
        var heights = Heights();
        var centers = Enumerable.Range(0, Bins).Select(b => (edges[b] + edges[b + 1]) / 2);
        for (int s = 0; s < _series.Count; s++)
        {
            var color = Palette.Series(s);
            var trace = figure.Trace("bar", _series[s].Name);
            trace["x"] = PlotlyFigure.Numbers(centers);
            trace["y"] = PlotlyFigure.Numbers(heights[s]);
            trace["width"] = ChartText.Stored(edges[1] - edges[0]);
            trace["marker"] = new System.Text.Json.Nodes.JsonObject
            {
                ["color"] = Palette.WithAlpha(color, Opacity),
                ["line"] = new System.Text.Json.Nodes.JsonObject { ["color"] = color, ["width"] = 0.8 },
            };
            int series = s;
            trace["hovertext"] = PlotlyFigure.Strings(Enumerable.Range(0, Bins).Select(b => BinLabel(series, b)));
            trace["hoverinfo"] = "text";
        }
        figure.Layout["barmode"] = "overlay";
        figure.Layout["bargap"] = 0;
        if (_marks.Count == 0) return;
        figure.Layout["shapes"] = new System.Text.Json.Nodes.JsonArray(_marks.Select(m => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "line", ["x0"] = ChartText.Stored(m.X), ["x1"] = ChartText.Stored(m.X), ["yref"] = "paper", ["y0"] = 0, ["y1"] = 1,
            ["line"] = new System.Text.Json.Nodes.JsonObject { ["color"] = Palette.Highlight, ["dash"] = "dash", ["width"] = 1.5 },
        }).ToArray());
        figure.Layout["annotations"] = new System.Text.Json.Nodes.JsonArray(_marks.Select((m, i) => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["x"] = ChartText.Stored(m.X), ["y"] = ChartText.Stored(1 - 0.07 * (i % 8)), ["yref"] = "paper", ["text"] = m.Text, ["showarrow"] = false,
            ["xanchor"] = m.X > (Edges()[0] + Edges()[^1]) / 2 ? "right" : "left", ["font"] = new System.Text.Json.Nodes.JsonObject { ["color"] = Palette.Highlight },
        }).ToArray());
    }

    private protected override void Draw(Plot plot)
    {
        var edges = Edges();
        var heights = Heights();
        for (int s = 0; s < _series.Count; s++)
        {
            var color = Palette.Series(s);
            var bars = Enumerable.Range(0, Bins).Where(b => heights[s][b] > 0).Select(b => new Bar
            {
                Position = (edges[b] + edges[b + 1]) / 2,
                Value = heights[s][b],
                Size = edges[b + 1] - edges[b],
                FillColor = ChartImage.ColorOf(color, Opacity),
                LineColor = ChartImage.ColorOf(color),
                LineWidth = 0.8f,
            }).ToList();
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = _series[s].Name;
            plottable.Color = ChartImage.ColorOf(color, Opacity);
        }
        var top = heights.SelectMany(h => h).DefaultIfEmpty(1).Max();
        var middle = (edges[0] + edges[^1]) / 2;   // labels right of the middle are written to the left of their line
        for (int i = 0; i < _marks.Count; i++)
        {
            var line = plot.Add.VerticalLine(_marks[i].X, 1.5f, ChartImage.ColorOf(Palette.Highlight), LinePattern.Dashed);
            var label = plot.Add.Text(_marks[i].Text, _marks[i].X, top * (1.1 - 0.07 * (i % 8)));
            label.LabelFontColor = ChartImage.ColorOf(Palette.Highlight);
            label.LabelFontSize = (float)Style.FontSize;
            label.LabelBackgroundColor = Colors.White.WithAlpha(0.75);
            var right = _marks[i].X > middle;
            label.LabelAlignment = right ? Alignment.UpperRight : Alignment.UpperLeft;
            label.OffsetX = right ? -3 : 3;
        }
        if (_marks.Count > 0) plot.Axes.Margins(bottom: 0, top: 0.2);
        else plot.Axes.Margins(bottom: 0);
        ChartImage.Legend(plot, _series.Count, Style.FontSize);
    }
}

/// <summary>Scatter plot with hover labels and highlighted, annotated points.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText })]
public sealed class ScatterChart : Chart
{
    private readonly List<(string Name, double[] X, double[] Y, string[]? Labels)> _series = new();
    private readonly List<(double X, double Y, string Text)> _notes = new();
    private readonly HashSet<string> _highlighted = new(StringComparer.Ordinal);

    public ScatterChart(string title, string xLabel = "x", string yLabel = "y") : base(title, xLabel, yLabel) { }

    /// <summary>Point radius in pixels (default 3.5).</summary>
    public double PointRadius { get; init; } = 3.5;

    /// <summary>Adds a series; <paramref name="labels"/> (one per point) are shown on hover.</summary>
    public ScatterChart Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<string>? labels = null)
    {
        RequireSameLength($"Series '{name}' y", x.Count, y.Count);
        if (labels is not null) RequireSameLength($"Series '{name}' labels", x.Count, labels.Count);
        _series.Add((name, x.ToArray(), y.ToArray(), labels?.ToArray()));
        return this;
    }

    /// <summary>Rings the points whose label is one of <paramref name="labels"/> and writes the label beside them.</summary>
    public ScatterChart Highlight(params string[] labels)
    {
        foreach (var l in labels) _highlighted.Add(l);
        return this;
    }

    /// <summary>Rings the position (x, y) and writes <paramref name="text"/> beside it.</summary>
    public ScatterChart Annotate(double x, double y, string text)
    {
        _notes.Add((x, y, text));
        return this;
    }

    public override string Describe()
    {
        var parts = _series.Select(s => $"{s.Name}: {Count(s.X.Length, "point")}");
        var marks = Marks().Count;
        return $"ScatterChart{Quote(Title)}: {string.Join(", ", parts)}; {XLabel} {Range(_series.SelectMany(s => s.X))}, " +
               $"{YLabel} {Range(_series.SelectMany(s => s.Y))}" + (marks > 0 ? $"; {Count(marks, "annotation")}" : "");
    }

    /// <summary>Hover text of a point: "label (x, y)", or "(x, y)" without a label.</summary>
    public static string PointLabel(string? label, double x, double y) =>
        (label is null ? "" : label + " ") + $"({ChartText.Value(x)}, {ChartText.Value(y)})";

    /// <summary>The ringed positions with their text: highlighted labelled points, then notes.</summary>
    public IReadOnlyList<(double X, double Y, string Text)> Marks() =>
        _series.SelectMany(s => Enumerable.Range(0, s.X.Length)
                .Where(i => s.Labels is not null && _highlighted.Contains(s.Labels[i]) && double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]))
                .Select(i => (s.X[i], s.Y[i], s.Labels![i])))
            .Concat(_notes).ToList();

    private protected override void BuildFigure(PlotlyFigure figure)
    {
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, x, y, labels) = _series[s];
            var trace = figure.Trace("scatter", name);
            trace["mode"] = "markers";
            trace["x"] = PlotlyFigure.Numbers(x);
            trace["y"] = PlotlyFigure.Numbers(y);
            trace["marker"] = new System.Text.Json.Nodes.JsonObject
            {
                ["color"] = Palette.Series(s), ["size"] = PointRadius * 2 + 1, ["opacity"] = 0.75,
                ["line"] = new System.Text.Json.Nodes.JsonObject { ["color"] = "#ffffff", ["width"] = 0.5 },
            };
            trace["hovertext"] = PlotlyFigure.Strings(Enumerable.Range(0, x.Length).Select(i => PointLabel(labels?[i], x[i], y[i])));
            trace["hoverinfo"] = "text";
        }
        var marks = Marks();
        if (marks.Count == 0) return;
        var ring = figure.Trace("scatter", "highlighted");
        ring["mode"] = "markers+text";
        ring["x"] = PlotlyFigure.Numbers(marks.Select(m => m.X));
        ring["y"] = PlotlyFigure.Numbers(marks.Select(m => m.Y));
        ring["text"] = PlotlyFigure.Strings(marks.Select(m => m.Text));
        var xs = _series.SelectMany(s => s.X).Concat(_notes.Select(n => n.X)).Where(double.IsFinite).ToList();
        double middle = xs.Count == 0 ? 0 : (xs.Min() + xs.Max()) / 2;
        ring["textposition"] = PlotlyFigure.Strings(marks.Select(m => m.X > middle ? "top left" : "top right"));
        ring["textfont"] = new System.Text.Json.Nodes.JsonObject { ["color"] = Palette.Highlight };
        ring["marker"] = new System.Text.Json.Nodes.JsonObject
        {
            ["symbol"] = "circle-open", ["size"] = PointRadius * 2 + 9, ["color"] = Palette.Highlight,
            ["line"] = new System.Text.Json.Nodes.JsonObject { ["width"] = 2 },
        };
        ring["hovertext"] = PlotlyFigure.Strings(marks.Select(m => PointLabel(m.Text, m.X, m.Y)));
        ring["hoverinfo"] = "text";
        ring["showlegend"] = false;
    }

    private protected override void Draw(Plot plot)
    {
        for (int s = 0; s < _series.Count; s++)
        {
            var points = plot.Add.ScatterPoints(_series[s].X, _series[s].Y, ChartImage.ColorOf(Palette.Series(s), 0.75));
            points.MarkerSize = (float)(PointRadius * 2 + 1);
            points.LegendText = _series[s].Name;
        }
        var xs = _series.SelectMany(s => s.X).Concat(_notes.Select(n => n.X)).Where(double.IsFinite).ToList();
        double middle = xs.Count == 0 ? 0 : (xs.Min() + xs.Max()) / 2;
        foreach (var (x, y, text) in Marks())
        {
            plot.Add.Marker(x, y, MarkerShape.OpenCircle, (float)(PointRadius * 2 + 9), ChartImage.ColorOf(Palette.Highlight)).LineWidth = 2;
            var label = plot.Add.Text(text, x, y);
            bool left = x > middle;   // write the note towards the middle, so that it stays inside the plot
            label.LabelFontColor = ChartImage.ColorOf(Palette.Highlight);
            label.LabelBold = true;
            label.LabelFontSize = (float)Style.FontSize;
            label.LabelBackgroundColor = Colors.White.WithAlpha(0.75);   // readable over dense points
            label.LabelPadding = 1;
            label.LabelAlignment = left ? Alignment.LowerRight : Alignment.LowerLeft;
            label.OffsetX = (float)((left ? -1 : 1) * (PointRadius + 6));
            label.OffsetY = -(float)(PointRadius + 2);
        }
        plot.Axes.Margins(0.08, 0.15);
        ChartImage.Legend(plot, _series.Count, Style.FontSize);
    }
}

/// <summary>Line chart; each series may carry an error band drawn as mean ± band.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText })]
public sealed class LineChart : Chart
{
    private readonly List<(string Name, double[] X, double[] Mean, double[]? Band)> _series = new();

    public LineChart(string title, string xLabel = "x", string yLabel = "y") : base(title, xLabel, yLabel) { }

    /// <summary>Draw a marker at each point; default: when a series has at most 40 points.</summary>
    public bool? Markers { get; init; }

    /// <summary>Adds a series; <paramref name="band"/> (same length) is the half-width of the shaded band, e.g. a standard deviation.</summary>
    public LineChart Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> mean, IReadOnlyList<double>? band = null)
    {
        RequireSameLength($"Series '{name}' mean", x.Count, mean.Count);
        if (band is not null) RequireSameLength($"Series '{name}' band", x.Count, band.Count);
        _series.Add((name, x.ToArray(), mean.ToArray(), band?.ToArray()));
        return this;
    }

    public override string Describe()
    {
        var parts = _series.Select(s => $"{s.Name}: {Count(s.X.Length, "point")}{(s.Band is null ? "" : " with band")}");
        return $"LineChart{Quote(Title)}: {string.Join(", ", parts)}; {XLabel} {Range(_series.SelectMany(s => s.X))}, " +
               $"{YLabel} {Range(_series.SelectMany(s => s.Mean))}";
    }

    /// <summary>Indices of a series' finite points in increasing x.</summary>
    private List<int> Order(int s) => Enumerable.Range(0, _series[s].X.Length)
        .Where(i => double.IsFinite(_series[s].X[i]) && double.IsFinite(_series[s].Mean[i])).OrderBy(i => _series[s].X[i]).ToList();

    /// <summary>The band of series <paramref name="s"/> as (x, lower, upper) over its finite points.</summary>
    private (double[] X, double[] Lo, double[] Hi) BandOf(int s)
    {
        var (_, x, mean, band) = _series[s];
        var idx = Order(s).Where(i => double.IsFinite(band![i])).ToList();
        return (idx.Select(i => x[i]).ToArray(), idx.Select(i => mean[i] - band![i]).ToArray(), idx.Select(i => mean[i] + band![i]).ToArray());
    }

    private protected override void BuildFigure(PlotlyFigure figure)
    {
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, x, mean, band) = _series[s];
            var color = Palette.Series(s);
            var idx = Order(s);
            if (band is not null && BandOf(s) is { X.Length: > 1 } b)
            {
                var area = figure.Trace("scatter", name + " ± band");
                area["x"] = PlotlyFigure.Numbers(b.X.Concat(b.X.Reverse()));
                area["y"] = PlotlyFigure.Numbers(b.Hi.Concat(b.Lo.Reverse()));
                area["fill"] = "toself";
                area["fillcolor"] = Palette.WithAlpha(color, 0.2);
                area["line"] = new System.Text.Json.Nodes.JsonObject { ["width"] = 0 };
                area["mode"] = "lines";
                area["hoverinfo"] = "skip";
                area["showlegend"] = false;
                area["legendgroup"] = name;
            }
            var line = figure.Trace("scatter", name);
            line["mode"] = Markers ?? idx.Count <= 40 ? "lines+markers" : "lines";
            line["x"] = PlotlyFigure.Numbers(idx.Select(i => x[i]));
            line["y"] = PlotlyFigure.Numbers(idx.Select(i => mean[i]));
            line["line"] = new System.Text.Json.Nodes.JsonObject { ["color"] = color, ["width"] = 2 };
            line["marker"] = new System.Text.Json.Nodes.JsonObject { ["color"] = color, ["size"] = 6 };
            line["legendgroup"] = name;
            line["hovertext"] = PlotlyFigure.Strings(idx.Select(i =>
                $"{name}: x={ChartText.Value(x[i])}, y={ChartText.Value(mean[i])}" + (band is null ? "" : $" ± {ChartText.Value(band[i])}")));
            line["hoverinfo"] = "text";
        }
    }

    private protected override void Draw(Plot plot)
    {
        for (int s = 0; s < _series.Count; s++)
        {
            var color = ChartImage.ColorOf(Palette.Series(s));
            var idx = Order(s);
            if (_series[s].Band is not null && BandOf(s) is { X.Length: > 1 } b)
            {
                var area = plot.Add.FillY(b.X, b.Lo, b.Hi);
                area.FillColor = color.WithAlpha(0.2);
                area.LineWidth = 0;
            }
            var line = plot.Add.Scatter(idx.Select(i => _series[s].X[i]).ToArray(), idx.Select(i => _series[s].Mean[i]).ToArray(), color);
            line.LineWidth = 2;
            line.MarkerSize = Markers ?? idx.Count <= 40 ? 5 : 0;
            line.LegendText = _series[s].Name;
        }
        ChartImage.Legend(plot, _series.Count, Style.FontSize);
    }
}
