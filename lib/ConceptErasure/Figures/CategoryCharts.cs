// The category charts of the workbook:
//   BarChart  grouped bars per category, one bar per series, with optional error bars
//   Heatmap   a matrix with row and column labels, values in the cells and a colour bar (viridis)
// Rendered like the x–y charts (Charts.cs): a Plotly figure with hover text per bar and cell, and a PNG.
using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Grouped bar chart: one group per category, one bar per series, optional error bars.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText })]
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

    /// <summary>Hover text of one bar, e.g. "target · UCE: 0.2 ± 0.02".</summary>
    public string BarLabel(int series, int category)
    {
        var (name, values, errors) = _series[series];
        return $"{name} · {Categories[category]}: {ChartText.Value(values[category])}" + (errors is null ? "" : $" ± {ChartText.Value(errors[category])}");
    }

    private bool LongLabels => Categories.Max(c => c.Length) * Style.FontSize * 0.6 > (Style.Width - 160) / (double)Categories.Count * 0.95;

    private protected override void BuildFigure(PlotlyFigure figure)
    {
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, values, errors) = _series[s];
            var trace = figure.Trace("bar", name);
            trace["x"] = PlotlyFigure.Strings(Categories);
            trace["y"] = PlotlyFigure.Numbers(values);
            trace["marker"] = new JsonObject { ["color"] = Palette.WithAlpha(Palette.Series(s), 0.85) };
            if (errors is not null)
                trace["error_y"] = new JsonObject
                {
                    ["type"] = "data", ["array"] = PlotlyFigure.Numbers(errors), ["visible"] = true,
                    ["color"] = "#222222", ["thickness"] = 1.2, ["width"] = 4,
                };
            int series = s;
            trace["hovertext"] = PlotlyFigure.Strings(Enumerable.Range(0, Categories.Count).Select(c => BarLabel(series, c)));
            trace["hoverinfo"] = "text";
        }
        figure.Layout["barmode"] = "group";
        figure.XAxis["type"] = "category";
    }

    private protected override void Draw(Plot plot)
    {
        double group = 0.8, width = group / Math.Max(1, _series.Count);
        for (int s = 0; s < _series.Count; s++)
        {
            var (name, values, errors) = _series[s];
            var color = ChartImage.ColorOf(Palette.Series(s), 0.85);
            var bars = Enumerable.Range(0, Categories.Count).Where(c => double.IsFinite(values[c])).Select(c => new Bar
            {
                Position = c - group / 2 + width * (s + 0.5),
                Value = values[c],
                Size = width * 0.9,
                FillColor = color,
                LineWidth = 0,
            }).ToList();
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = name;
            plottable.Color = color;
            if (errors is null) continue;
            var shown = Enumerable.Range(0, Categories.Count).Where(c => double.IsFinite(values[c]) && double.IsFinite(errors[c])).ToList();
            var whiskers = plot.Add.ErrorBar(shown.Select(c => c - group / 2 + width * (s + 0.5)).ToList(), shown.Select(c => values[c]).ToList(), shown.Select(c => errors[c]).ToList());
            whiskers.Color = ChartImage.ColorOf("#222222");
            whiskers.LineWidth = 1.2f;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, Categories.Count).Select(c => (double)c).ToArray(), Categories.ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (LongLabels) ChartImage.TiltBottomLabels(plot, Categories, Style.FontSize);
        plot.Grid.XAxisStyle.IsVisible = false;
        plot.Axes.Margins(bottom: 0);
        ChartImage.Legend(plot, _series.Count, Style.FontSize);
    }
}

/// <summary>A matrix as coloured cells with row/column labels and a colour bar.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText })]
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
        return $"Heatmap{Quote(Title)}: {Rows}×{Columns}; values {Range(Cells())}; colour range [{ChartText.Value(lo)}, {ChartText.Value(hi)}]";
    }

    /// <summary>Hover text of a cell, e.g. "dog · c: 5".</summary>
    public string CellLabel(int row, int column) => $"{RowLabels[row]} · {ColumnLabels[column]}: {ChartText.Value(_values[row, column])}";

    /// <summary>The values mapped to the ends of the colour map.</summary>
    public (double Lo, double Hi) ColourRange()
    {
        var finite = Cells().Where(double.IsFinite).ToList();
        double lo = Min ?? (finite.Count > 0 ? finite.Min() : 0), hi = Max ?? (finite.Count > 0 ? finite.Max() : 1);
        return hi > lo ? (lo, hi) : (lo - 0.5, lo + 0.5);
    }

    private IEnumerable<double> Cells()
    {
        foreach (var v in _values) yield return v;
    }

    private bool Values => ShowValues ?? Rows * Columns <= 144;

    private protected override void BuildFigure(PlotlyFigure figure)
    {
        var (lo, hi) = ColourRange();
        var trace = figure.Trace("heatmap");
        trace["z"] = new JsonArray(Enumerable.Range(0, Rows).Select(r => (JsonNode?)PlotlyFigure.Numbers(Enumerable.Range(0, Columns).Select(c => _values[r, c]))).ToArray());
        trace["x"] = PlotlyFigure.Strings(ColumnLabels);
        trace["y"] = PlotlyFigure.Strings(RowLabels);
        trace["zmin"] = ChartText.Stored(lo);
        trace["zmax"] = ChartText.Stored(hi);
        trace["colorscale"] = new JsonArray(Palette.SequentialStops().Select(p => (JsonNode?)new JsonArray(ChartText.Stored(p.At), p.Color)).ToArray());
        trace["hovertext"] = new JsonArray(Enumerable.Range(0, Rows).Select(r => (JsonNode?)PlotlyFigure.Strings(Enumerable.Range(0, Columns).Select(c => CellLabel(r, c)))).ToArray());
        trace["hoverinfo"] = "text";
        trace["xgap"] = 1;
        trace["ygap"] = 1;
        if (Values)
        {
            trace["text"] = new JsonArray(Enumerable.Range(0, Rows).Select(r => (JsonNode?)PlotlyFigure.Strings(Enumerable.Range(0, Columns).Select(c => ChartText.Value(_values[r, c])))).ToArray());
            trace["texttemplate"] = "%{text}";
            trace["textfont"] = new JsonObject { ["size"] = Style.FontSize * 0.85 };
        }
        foreach (var axis in new[] { figure.XAxis, figure.YAxis })
        {
            axis["type"] = "category";
            axis["showgrid"] = false;
            axis["showline"] = false;
        }
        figure.YAxis["autorange"] = "reversed";
    }

    private protected override void Draw(Plot plot)
    {
        var (lo, hi) = ColourRange();
        var heatmap = plot.Add.Heatmap(_values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(lo, hi);
        heatmap.NaNCellColor = ChartImage.ColorOf("#cccccc");
        plot.Add.ColorBar(heatmap);
        // Cell (r, c) is centred at x = c, y = Rows - 1 - r (row 0 on top).
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, Columns).Select(c => (double)c).ToArray(), ColumnLabels.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, Rows).Select(r => (double)(Rows - 1 - r)).ToArray(), RowLabels.ToArray());
        if (ColumnLabels.Max(l => l.Length) * Style.FontSize * 0.6 > (Style.Width - 200) / (double)Columns * 0.95)
            ChartImage.TiltBottomLabels(plot, ColumnLabels, Style.FontSize);
        plot.HideGrid();
        if (!Values) return;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                var v = _values[r, c];
                var text = plot.Add.Text(ChartText.Value(v), c, Rows - 1 - r);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = (float)(Style.FontSize * 0.85);
                text.LabelFontColor = ChartImage.ColorOf(Palette.TextOn(Palette.Sequential((v - lo) / (hi - lo))));
            }
    }
}
