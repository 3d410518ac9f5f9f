// The common frame of the x–y charts: sizes and fonts (ChartStyle), the title, axes with nice ticks and
// grid lines, axis labels and an outside legend, and the notebook renderings every chart shares:
// image/svg+xml (the figure), text/html (the same SVG inline, so hover labels work in browsers and VS Code)
// and text/plain (a one-paragraph description for terminals and diffs). Concrete charts are in Charts.cs.
using System.Globalization;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Size and typography of a chart.</summary>
/// <param name="Width">Whole figure width in pixels (default 640).</param>
/// <param name="Height">Whole figure height in pixels (default 400).</param>
/// <param name="FontSize">Base font size in pixels; titles are 1.25× (default 12).</param>
/// <param name="FontFamily">CSS font list (default: DejaVu Sans, then common sans-serif fonts).</param>
/// <param name="XTicks">About how many intervals the numeric x axis shows (default 6).</param>
/// <param name="YTicks">About how many intervals the y axis shows (default 5).</param>
public sealed record ChartStyle(
    int Width = 640,
    int Height = 400,
    double FontSize = 12,
    string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif",
    int XTicks = 6,
    int YTicks = 5)
{
    public static ChartStyle Default { get; } = new();
}

/// <summary>A legend row: the series name, its colour, and whether its swatch is a line or a box.</summary>
internal sealed record LegendEntry(string Label, string Color, bool IsLine);

/// <summary>The plot area of a laid-out chart and its data-to-pixel scales.</summary>
internal sealed record PlotFrame(double Left, double Top, double Right, double Bottom, LinearScale X, LinearScale Y);

/// <summary>Base of the x–y charts: layout, axes, legend and the notebook renderings.</summary>
public abstract class Chart : IMimeRenderable
{
    protected Chart(string title, string xLabel, string yLabel)
    {
        Title = title ?? "";
        XLabel = xLabel ?? "";
        YLabel = yLabel ?? "";
    }

    public string Title { get; }

    public string XLabel { get; }

    public string YLabel { get; }

    /// <summary>Size and fonts; e.g. <c>Style = ChartStyle.Default with { Width = 800 }</c>.</summary>
    public ChartStyle Style { get; init; } = ChartStyle.Default;

    /// <summary>The chart as a standalone SVG document.</summary>
    public string ToSvg()
    {
        var svg = new SvgWriter(Style.Width, Style.Height, Style.FontFamily, Style.FontSize);
        Draw(svg);
        return svg.Finish();
    }

    /// <summary>A short plain-text description: kind, title, series and data ranges.</summary>
    public abstract string Describe();

    /// <summary>Writes the SVG to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToSvg());

    public bool TryRender(string mimeType, TextWriter writer) => SvgFigure.TryRender(mimeType, writer, ToSvg, Describe);

    public override string ToString() => Describe();

    private protected abstract void Draw(SvgWriter svg);

    /// <summary>
    /// Draws title, grid, axes, tick labels, axis labels and legend, and returns the plot area.
    /// <paramref name="xTicks"/> are (data position, label) pairs; <paramref name="xDomain"/> is the x data range.
    /// </summary>
    private protected PlotFrame DrawFrame(
        SvgWriter svg,
        (double Lo, double Hi) xDomain,
        IReadOnlyList<(double At, string Label)> xTicks,
        NiceTicks yTicks,
        IReadOnlyList<LegendEntry> legend,
        bool verticalGrid = true,
        double xLabelRotation = 0)
    {
        double fs = Style.FontSize, w = Style.Width, h = Style.Height;
        double top = 12 + (Title.Length > 0 ? fs * 1.25 + 12 : 0);
        double legendWidth = legend.Count > 1 ? 34 + legend.Max(e => SvgText.Width(e.Label, fs)) : 0;
        double right = w - 16 - legendWidth;
        double yLabelWidth = yTicks.Values().Max(v => SvgText.Width(yTicks.Label(v), fs));
        double left = 12 + (YLabel.Length > 0 ? fs * 1.5 : 0) + yLabelWidth + 8;
        double tickLabelHeight = xLabelRotation == 0
            ? fs * 1.3
            : Math.Min(110, xTicks.Count == 0 ? 0 : xTicks.Max(t => SvgText.Width(t.Label, fs)) * Math.Sin(Math.Abs(xLabelRotation) * Math.PI / 180) + fs);
        double bottom = h - 10 - tickLabelHeight - 6 - (XLabel.Length > 0 ? fs * 1.5 : 0);

        var x = new LinearScale(xDomain.Lo, xDomain.Hi, left, right);
        var y = new LinearScale(yTicks.Min, yTicks.Max, bottom, top);

        if (Title.Length > 0)
            svg.Text((left + right) / 2, 12 + fs * 1.25, Title, "middle", $"font-size=\"{SvgText.Px(fs * 1.25)}\" font-weight=\"bold\"");

        foreach (var v in yTicks.Values())
        {
            var py = y.Map(v);
            svg.Line(left, py, right, py, "stroke=\"#e6e6e6\" stroke-width=\"1\"");
            svg.Text(left - 6, py + fs * 0.35, yTicks.Label(v), "end", "fill=\"#333333\"");
        }
        foreach (var (at, label) in xTicks)
        {
            var px = x.Map(at);
            if (verticalGrid) svg.Line(px, top, px, bottom, "stroke=\"#e6e6e6\" stroke-width=\"1\"");
            svg.Line(px, bottom, px, bottom + 4, "stroke=\"#444444\" stroke-width=\"1\"");
            if (xLabelRotation == 0) svg.Text(px, bottom + 6 + fs, label, "middle", "fill=\"#333333\"");
            else svg.Text(px, bottom + 8 + fs * 0.35, label, "end", "fill=\"#333333\"", xLabelRotation);
        }
        svg.Line(left, bottom, right, bottom, "stroke=\"#444444\" stroke-width=\"1\"");
        svg.Line(left, top, left, bottom, "stroke=\"#444444\" stroke-width=\"1\"");

        if (XLabel.Length > 0) svg.Text((left + right) / 2, h - 10, XLabel, "middle");
        if (YLabel.Length > 0) svg.Text(12 + fs, (top + bottom) / 2, YLabel, "middle", "", -90);

        if (legend.Count > 1)
        {
            double lx = right + 16, ly = top;
            for (int i = 0; i < legend.Count; i++)
            {
                var e = legend[i];
                double cy = ly + i * fs * 1.6 + fs * 0.6;
                if (e.IsLine) svg.Line(lx, cy, lx + 18, cy, $"stroke=\"{e.Color}\" stroke-width=\"2.5\"");
                else svg.Rect(lx + 3, cy - fs * 0.45, 12, fs * 0.9, $"fill=\"{e.Color}\" fill-opacity=\"0.8\"");
                svg.Text(lx + 24, cy + fs * 0.35, e.Label);
            }
        }
        return new PlotFrame(left, top, right, bottom, x, y);
    }

    /// <summary>Numeric ticks as (position, label) pairs.</summary>
    private protected static IReadOnlyList<(double, string)> TickList(NiceTicks t) => t.Values().Select(v => (v, t.Label(v))).ToList();

    /// <summary>"[lo, hi]" of the finite values, for descriptions.</summary>
    private protected static string Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        return finite.Count == 0 ? "no finite values" : $"[{SvgText.Value(finite.Min())}, {SvgText.Value(finite.Max())}]";
    }

    private protected static string Quote(string s) => s.Length == 0 ? "" : " \"" + s + "\"";

    private protected static string Count(int n, string noun, string? plural = null) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? noun : plural ?? noun + "s");

    private protected static void RequireSameLength(string what, int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"{what} has {actual} values but the x values have {expected}; they must match.");
    }
}
