// The chart types of the workbook, all SVG, all built fluently and shown by returning them from a cell
// (or display(chart)):
//   Histogram     distributions of one or more series over shared bins
//   ScatterChart  points with hover labels; Highlight/Annotate mark points with a ring and a note
//   LineChart     series with an optional error band (mean ± band)
//   BarChart      grouped bars per category with optional error bars
//   Heatmap       a matrix with row/column labels and a colour bar
// Each point, bin, bar and cell carries an SVG <title>, shown on hover where the SVG is inline.
using System.Globalization;
using System.Text;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Histogram of one or more series over shared bins.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText })]
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

    /// <summary>The bin edges (Bins + 1 values).</summary>
    public double[] Edges()
    {
        var all = _series.SelectMany(s => s.Values).ToList();
        double lo = Min ?? (all.Count > 0 ? all.Min() : 0), hi = Max ?? (all.Count > 0 ? all.Max() : 1);
        if (hi <= lo) (lo, hi) = (lo - 0.5, lo + 0.5);
        return Enumerable.Range(0, Bins + 1).Select(i => lo + (hi - lo) * i / Bins).ToArray();
    }

    /// <summary>Per-series bin heights (counts, or fractions when Normalize).</summary>
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
                int b = Math.Min(Bins - 1, (int)((v - lo) / (hi - lo) * Bins));
                h[b]++;
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
               $"{Count(Bins, "bin")} over [{SvgText.Value(edges[0])}, {SvgText.Value(edges[^1])}]";
    }

    private protected override void Draw(SvgWriter svg)
    {
        var edges = Edges();
        var heights = Heights();
        var xt = NiceTicks.For(edges[0], edges[^1], Style.XTicks);
        double top = heights.Length == 0 ? 1 : heights.Max(h => h.Length == 0 ? 0 : h.Max());
        var yt = NiceTicks.For(0, top <= 0 ? 1 : top, Style.YTicks);
        var legend = _series.Select((s, i) => new LegendEntry(s.Name, Palette.Series(i), false)).ToList();
        var f = DrawFrame(svg, (xt.Min, xt.Max), TickList(xt), yt, legend);
        double opacity = _series.Count > 1 ? 0.45 : 0.8;
        for (int s = 0; s < heights.Length; s++)
        {
            var color = Palette.Series(s);
            for (int b = 0; b < Bins; b++)
            {
                if (heights[s][b] <= 0) continue;
                double x0 = f.X.Map(edges[b]), x1 = f.X.Map(edges[b + 1]), y0 = f.Y.Map(heights[s][b]);
                var value = Normalize ? SvgText.Value(heights[s][b]) : heights[s][b].ToString("0", CultureInfo.InvariantCulture);
                svg.Rect(x0, y0, x1 - x0, f.Bottom - y0, $"fill=\"{color}\" fill-opacity=\"{SvgText.Px(opacity)}\" stroke=\"{color}\" stroke-width=\"0.8\"",
                    $"{_series[s].Name}: [{SvgText.Value(edges[b])}, {SvgText.Value(edges[b + 1])}) {value}");
            }
        }
    }
}

/// <summary>Scatter plot with hover labels and highlighted, annotated points.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText })]
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
        var marks = _highlighted.Count + _notes.Count;
        return $"ScatterChart{Quote(Title)}: {string.Join(", ", parts)}; {XLabel} {Range(_series.SelectMany(s => s.X))}, " +
               $"{YLabel} {Range(_series.SelectMany(s => s.Y))}" + (marks > 0 ? $"; {Count(marks, "annotation")}" : "");
    }

    private protected override void Draw(SvgWriter svg)
    {
        var xs = _series.SelectMany(s => s.X).Concat(_notes.Select(n => n.X)).Where(double.IsFinite).ToList();
        var ys = _series.SelectMany(s => s.Y).Concat(_notes.Select(n => n.Y)).Where(double.IsFinite).ToList();
        var xt = NiceTicks.For(xs.Count > 0 ? xs.Min() : 0, xs.Count > 0 ? xs.Max() : 1, Style.XTicks);
        var yt = NiceTicks.For(ys.Count > 0 ? ys.Min() : 0, ys.Count > 0 ? ys.Max() : 1, Style.YTicks);
        var legend = _series.Select((s, i) => new LegendEntry(s.Name, Palette.Series(i), false)).ToList();
        var f = DrawFrame(svg, (xt.Min, xt.Max), TickList(xt), yt, legend);
        var marks = new List<(double Px, double Py, string Text)>();
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, x, y, labels) = _series[s];
            var color = Palette.Series(s);
            for (int i = 0; i < x.Length; i++)
            {
                if (!double.IsFinite(x[i]) || !double.IsFinite(y[i])) continue;
                double px = f.X.Map(x[i]), py = f.Y.Map(y[i]);
                var label = labels?[i];
                var hover = (label ?? name) + $" ({SvgText.Value(x[i])}, {SvgText.Value(y[i])})";
                svg.Circle(px, py, PointRadius, $"fill=\"{color}\" fill-opacity=\"0.75\" stroke=\"#ffffff\" stroke-width=\"0.5\"", hover);
                if (label is not null && _highlighted.Contains(label)) marks.Add((px, py, label));
            }
        }
        foreach (var (x, y, text) in _notes) marks.Add((f.X.Map(x), f.Y.Map(y), text));
        foreach (var (px, py, text) in marks)
        {
            svg.Circle(px, py, PointRadius + 4, $"fill=\"none\" stroke=\"{Palette.Highlight}\" stroke-width=\"2\"");
            bool leftSide = px > (f.Left + f.Right) / 2;
            svg.Text(px + (leftSide ? -10 : 10), py - 8, text, leftSide ? "end" : "start",
                $"font-weight=\"bold\" fill=\"{Palette.Highlight}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"");
        }
    }
}

/// <summary>Line chart; each series may carry an error band drawn as mean ± band.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText })]
public sealed class LineChart : Chart
{
    private readonly List<(string Name, double[] X, double[] Mean, double[]? Band)> _series = new();

    public LineChart(string title, string xLabel = "x", string yLabel = "y") : base(title, xLabel, yLabel) { }

    /// <summary>Draw a marker (with hover text) at each point; default: when a series has at most 40 points.</summary>
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

    private protected override void Draw(SvgWriter svg)
    {
        var xs = _series.SelectMany(s => s.X).Where(double.IsFinite).ToList();
        var ys = _series.SelectMany(s => Enumerable.Range(0, s.X.Length).SelectMany(i =>
            s.Band is null ? new[] { s.Mean[i] } : new[] { s.Mean[i] - s.Band[i], s.Mean[i] + s.Band[i] })).Where(double.IsFinite).ToList();
        var xt = NiceTicks.For(xs.Count > 0 ? xs.Min() : 0, xs.Count > 0 ? xs.Max() : 1, Style.XTicks);
        var yt = NiceTicks.For(ys.Count > 0 ? ys.Min() : 0, ys.Count > 0 ? ys.Max() : 1, Style.YTicks);
        var legend = _series.Select((s, i) => new LegendEntry(s.Name, Palette.Series(i), true)).ToList();
        var f = DrawFrame(svg, (xt.Min, xt.Max), TickList(xt), yt, legend);
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, x, mean, band) = _series[s];
            var color = Palette.Series(s);
            var idx = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(mean[i])).OrderBy(i => x[i]).ToList();
            if (band is not null)
            {
                var withBand = idx.Where(i => double.IsFinite(band[i])).ToList();
                var upper = withBand.Select(i => (f.X.Map(x[i]), f.Y.Map(mean[i] + band[i])));
                var lower = withBand.AsEnumerable().Reverse().Select(i => (f.X.Map(x[i]), f.Y.Map(mean[i] - band[i])));
                if (withBand.Count > 1) svg.Poly(upper.Concat(lower), true, $"fill=\"{color}\" fill-opacity=\"0.2\" stroke=\"none\"");
            }
            svg.Poly(idx.Select(i => (f.X.Map(x[i]), f.Y.Map(mean[i]))), false, $"fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\"");
            if (Markers ?? idx.Count <= 40)
            {
                foreach (var i in idx)
                {
                    var text = $"{name}: x={SvgText.Value(x[i])}, y={SvgText.Value(mean[i])}" + (band is null ? "" : $" ± {SvgText.Value(band[i])}");
                    svg.Circle(f.X.Map(x[i]), f.Y.Map(mean[i]), 3, $"fill=\"{color}\" stroke=\"#ffffff\" stroke-width=\"0.8\"", text);
                }
            }
        }
    }
}

/// <summary>Grouped bar chart: one group per category, one bar per series, optional error bars.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText })]
public sealed class BarChart : Chart
{
    private readonly List<(string Name, double[] Values, double[]? Errors)> _series = new();

    public BarChart(string title, string xLabel, string yLabel, IReadOnlyList<string> categories) : base(title, xLabel, yLabel)
    {
        if (categories.Count == 0) throw new ArgumentException("A bar chart needs at least one category.", nameof(categories));
        Categories = categories.ToArray();
    }

    public IReadOnlyList<string> Categories { get; }

    /// <summary>Adds a series with one value per category; <paramref name="errors"/> are half-lengths of the error bars.</summary>
    public BarChart Add(string name, IReadOnlyList<double> values, IReadOnlyList<double>? errors = null)
    {
        if (values.Count != Categories.Count)
            throw new ArgumentException($"Series '{name}' has {values.Count} values but there are {Categories.Count} categories; they must match.");
        if (errors is not null && errors.Count != values.Count)
            throw new ArgumentException($"Series '{name}' has {errors.Count} errors but {values.Count} values; they must match.");
        _series.Add((name, values.ToArray(), errors?.ToArray()));
        return this;
    }

    public override string Describe()
    {
        var parts = _series.Select(s => s.Name + (s.Errors is null ? "" : " (with error bars)"));
        return $"BarChart{Quote(Title)}: {Count(Categories.Count, "category", "categories")} ({string.Join(", ", Categories)}); " +
               $"series: {string.Join(", ", parts)}; {YLabel} {Range(_series.SelectMany(s => s.Values))}";
    }

    private protected override void Draw(SvgWriter svg)
    {
        var extents = _series.SelectMany(s => s.Values.Select((v, i) => s.Errors is null ? new[] { v } : new[] { v - s.Errors[i], v + s.Errors[i] }))
            .SelectMany(a => a).Where(double.IsFinite).Append(0.0).ToList();
        var yt = NiceTicks.For(extents.Min(), extents.Max(), Style.YTicks);
        var legend = _series.Select((s, i) => new LegendEntry(s.Name, Palette.Series(i), false)).ToList();
        var ticks = Categories.Select((c, i) => (i + 0.5, c)).ToList();
        double legendWidth = legend.Count > 1 ? 34 + legend.Max(e => SvgText.Width(e.Label, Style.FontSize)) : 0;
        double approxBand = (Style.Width - 100 - legendWidth) / Categories.Count;
        double rotation = Categories.Max(c => SvgText.Width(c, Style.FontSize)) > approxBand * 0.95 ? -35 : 0;
        var f = DrawFrame(svg, (0, Categories.Count), ticks, yt, legend, verticalGrid: false, xLabelRotation: rotation);
        double band = (f.Right - f.Left) / Categories.Count;
        double group = band * 0.8, barW = group / Math.Max(1, _series.Count);
        double zero = f.Y.Map(0);
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, values, errors) = _series[s];
            var color = Palette.Series(s);
            for (int c = 0; c < Categories.Count; c++)
            {
                if (!double.IsFinite(values[c])) continue;
                double x0 = f.Left + c * band + (band - group) / 2 + s * barW;
                double yv = f.Y.Map(values[c]);
                var hover = $"{name} · {Categories[c]}: {SvgText.Value(values[c])}" + (errors is null ? "" : $" ± {SvgText.Value(errors[c])}");
                svg.Rect(x0 + 1, Math.Min(yv, zero), barW - 2, Math.Abs(zero - yv), $"fill=\"{color}\" fill-opacity=\"0.85\"", hover);
                if (errors is not null && double.IsFinite(errors[c]))
                {
                    double cx = x0 + barW / 2, lo = f.Y.Map(values[c] - errors[c]), hi = f.Y.Map(values[c] + errors[c]);
                    double cap = Math.Min(6, barW / 4);
                    const string stroke = "stroke=\"#222222\" stroke-width=\"1.2\"";
                    svg.Line(cx, lo, cx, hi, stroke).Line(cx - cap, lo, cx + cap, lo, stroke).Line(cx - cap, hi, cx + cap, hi, stroke);
                }
            }
        }
        if (yt.Min < 0) svg.Line(f.Left, zero, f.Right, zero, "stroke=\"#444444\" stroke-width=\"1\"");
    }
}

/// <summary>A matrix as coloured cells with row/column labels and a colour bar.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText })]
public sealed class Heatmap : Chart
{
    private readonly double[,] _values;

    public Heatmap(string title, double[,] values, IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null,
        string xLabel = "", string yLabel = "") : base(title, xLabel, yLabel)
    {
        _values = (double[,])values.Clone();
        if (rowLabels is not null && rowLabels.Count != Rows)
            throw new ArgumentException($"There are {rowLabels.Count} row labels for {Rows} rows; they must match.");
        if (columnLabels is not null && columnLabels.Count != Columns)
            throw new ArgumentException($"There are {columnLabels.Count} column labels for {Columns} columns; they must match.");
        RowLabels = rowLabels?.ToArray() ?? Enumerable.Range(0, Rows).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        ColumnLabels = columnLabels?.ToArray() ?? Enumerable.Range(0, Columns).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    public int Rows => _values.GetLength(0);

    public int Columns => _values.GetLength(1);

    public IReadOnlyList<string> RowLabels { get; }

    public IReadOnlyList<string> ColumnLabels { get; }

    /// <summary>Value mapped to the first colour (default: smallest finite value).</summary>
    public double? Min { get; init; }

    /// <summary>Value mapped to the last colour (default: largest finite value).</summary>
    public double? Max { get; init; }

    /// <summary>Write each value in its cell; default: when there are at most 144 cells.</summary>
    public bool? ShowValues { get; init; }

    public override string Describe()
    {
        var (lo, hi) = ColourRange();
        return $"Heatmap{Quote(Title)}: {Rows}×{Columns}; values {Range(Cells())}; colour range [{SvgText.Value(lo)}, {SvgText.Value(hi)}]";
    }

    private IEnumerable<double> Cells()
    {
        foreach (var v in _values) yield return v;
    }

    private (double Lo, double Hi) ColourRange()
    {
        var finite = Cells().Where(double.IsFinite).ToList();
        double lo = Min ?? (finite.Count > 0 ? finite.Min() : 0), hi = Max ?? (finite.Count > 0 ? finite.Max() : 1);
        return hi > lo ? (lo, hi) : (lo - 0.5, lo + 0.5);
    }

    private protected override void Draw(SvgWriter svg)
    {
        double fs = Style.FontSize, w = Style.Width, h = Style.Height;
        var (lo, hi) = ColourRange();
        var ticks = NiceTicks.For(lo, hi, 5);
        var barTicks = ticks.Values().Where(v => v >= lo - 1e-12 && v <= hi + 1e-12).ToList();
        double barLabelW = barTicks.Count == 0 ? 0 : barTicks.Max(v => SvgText.Width(ticks.Label(v), fs));
        double top = 12 + (Title.Length > 0 ? fs * 1.25 + 12 : 0);
        double left = 12 + (YLabel.Length > 0 ? fs * 1.5 : 0) + Math.Min(160, RowLabels.Max(l => SvgText.Width(l, fs))) + 8;
        double right = w - 16 - barLabelW - 8 - 14 - 16;
        double cellW = (right - left) / Columns;
        double colLabelW = ColumnLabels.Max(l => SvgText.Width(l, fs));
        bool rotate = colLabelW > cellW * 0.95;
        double colLabelH = rotate ? Math.Min(110, colLabelW * 0.6 + fs) : fs * 1.3;
        double bottom = h - 10 - colLabelH - 6 - (XLabel.Length > 0 ? fs * 1.5 : 0);
        double cellH = (bottom - top) / Rows;

        if (Title.Length > 0) svg.Text((left + right) / 2, 12 + fs * 1.25, Title, "middle", $"font-size=\"{SvgText.Px(fs * 1.25)}\" font-weight=\"bold\"");
        bool values = ShowValues ?? Rows * Columns <= 144;
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                var v = _values[r, c];
                var color = Palette.Sequential((v - lo) / (hi - lo));
                double x = left + c * cellW, y = top + r * cellH;
                svg.Rect(x, y, cellW, cellH, $"fill=\"{color}\" stroke=\"#ffffff\" stroke-width=\"0.5\"", $"{RowLabels[r]} · {ColumnLabels[c]}: {SvgText.Value(v)}");
                if (values && cellH >= fs * 1.1 && cellW >= SvgText.Width(SvgText.Value(v), fs * 0.85))
                    svg.Text(x + cellW / 2, y + cellH / 2 + fs * 0.3, SvgText.Value(v), "middle", $"font-size=\"{SvgText.Px(fs * 0.85)}\" fill=\"{Palette.TextOn(color)}\"");
            }
        }
        for (int r = 0; r < Rows; r++)
            svg.Text(left - 6, top + (r + 0.5) * cellH + fs * 0.35, SvgText.Fit(RowLabels[r], fs, 160), "end", "fill=\"#333333\"");
        for (int c = 0; c < Columns; c++)
        {
            double x = left + (c + 0.5) * cellW;
            if (rotate) svg.Text(x, bottom + 8 + fs * 0.35, ColumnLabels[c], "end", "fill=\"#333333\"", -35);
            else svg.Text(x, bottom + 6 + fs, ColumnLabels[c], "middle", "fill=\"#333333\"");
        }
        if (XLabel.Length > 0) svg.Text((left + right) / 2, h - 10, XLabel, "middle");
        if (YLabel.Length > 0) svg.Text(12 + fs, (top + bottom) / 2, YLabel, "middle", "", -90);

        // Colour bar: 32 stacked slices from lo (bottom) to hi (top), with ticks at nice values.
        double bx = right + 16, bw = 14;
        const int slices = 32;
        for (int i = 0; i < slices; i++)
        {
            double y0 = bottom - (i + 1) * (bottom - top) / slices;
            svg.Rect(bx, y0, bw, (bottom - top) / slices + 0.5, $"fill=\"{Palette.Sequential((i + 0.5) / slices)}\"");
        }
        svg.Rect(bx, top, bw, bottom - top, "fill=\"none\" stroke=\"#444444\" stroke-width=\"0.8\"");
        var scale = new LinearScale(lo, hi, bottom, top);
        foreach (var v in barTicks)
        {
            double y = scale.Map(v);
            svg.Line(bx + bw, y, bx + bw + 4, y, "stroke=\"#444444\" stroke-width=\"1\"");
            svg.Text(bx + bw + 6, y + fs * 0.35, ticks.Label(v), "start", "fill=\"#333333\"");
        }
    }
}
