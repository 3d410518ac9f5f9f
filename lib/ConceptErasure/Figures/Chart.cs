// The common part of the workbook's charts. A chart is built fluently from data and renders itself twice
// from the same data and colours: as Plotly's figure JSON (mime application/vnd.plotly.v1+json: interactive,
// with hover labels, in VS Code and JupyterLab, and no CDN needed) and as a static PNG drawn by ScottPlot
// (what GitHub and nbconvert show), plus a one-paragraph text/plain description. There is deliberately no
// text/html: nbconvert prefers HTML over PNG, and a chart's HTML would need plotly.js. Notebooks show a
// chart by returning it from a cell or with display(chart); the TypeFormatterSource on each chart type
// (Workbook/Formatting.cs) makes .NET Interactive emit exactly those three MIME types.
using System.Text.Json.Nodes;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>Size and typography of a chart.</summary>
/// <param name="Width">Figure width in pixels, in both renderings (default 640).</param>
/// <param name="Height">Figure height in pixels (default 400).</param>
/// <param name="FontSize">Base font size in pixels; titles are 1.25× (default 12).</param>
/// <param name="FontFamily">Font list, CSS style; the PNG uses the first one installed (default: DejaVu Sans first).</param>
public sealed record ChartStyle(
    int Width = 640,
    int Height = 400,
    double FontSize = 12,
    string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif")
{
    public static ChartStyle Default { get; } = new();
}

/// <summary>Base of the charts: title, axis labels, style and the three renderings.</summary>
public abstract class Chart : IMimeRenderable
{
    /// <summary>The MIME types a chart emits, richest first.</summary>
    public static readonly IReadOnlyList<string> MimeTypesEmitted = new[] { Workbook.MimeTypes.PlotlyJson, Workbook.MimeTypes.Png, Workbook.MimeTypes.PlainText };

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

    /// <summary>A short plain-text description: kind, title, series and data ranges.</summary>
    public abstract string Describe();

    /// <summary>Plotly's figure JSON ({"data": [...], "layout": {...}}), compact, deterministic.</summary>
    public string ToPlotlyJson()
    {
        var figure = new PlotlyFigure(this);
        BuildFigure(figure);
        return figure.ToJson();
    }

    /// <summary>The chart as a PNG image of Style.Width × Style.Height pixels.</summary>
    public byte[] ToPng()
    {
        using var plot = ChartImage.Create(this);
        Draw(plot);
        return ChartImage.Png(plot, Style);
    }

    /// <summary>Writes the chart atomically: ".png" as the image, ".json" as Plotly's figure JSON.</summary>
    public void Save(string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".png":
                AtomicFile.WriteAllBytes(path, ToPng());
                break;
            case ".json":
                AtomicFile.WriteAllText(path, ToPlotlyJson());
                break;
            default:
                throw new ArgumentException($"Cannot save a chart as '{Path.GetExtension(path)}': use .png (image) or .json (Plotly figure).", nameof(path));
        }
    }

    public bool TryRender(string mimeType, TextWriter writer)
    {
        switch (mimeType)
        {
            case Workbook.MimeTypes.PlotlyJson:
                writer.Write(ToPlotlyJson());
                return true;
            case Workbook.MimeTypes.Png:
                writer.Write(Convert.ToBase64String(ToPng()));
                return true;
            case Workbook.MimeTypes.PlainText:
                writer.Write(Describe());
                return true;
            default:
                return false;
        }
    }

    public override string ToString() => Describe();

    /// <summary>Adds the chart's traces (and any layout beyond the common one) to <paramref name="figure"/>.</summary>
    private protected abstract void BuildFigure(PlotlyFigure figure);

    /// <summary>Draws the chart on a ScottPlot plot that already carries title, labels and fonts.</summary>
    private protected abstract void Draw(ScottPlot.Plot plot);

    /// <summary>"[lo, hi]" of the finite values, for descriptions.</summary>
    private protected static string Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        return finite.Count == 0 ? "no finite values" : $"[{ChartText.Value(finite.Min())}, {ChartText.Value(finite.Max())}]";
    }

    private protected static string Quote(string s) => s.Length == 0 ? "" : " \"" + s + "\"";

    private protected static string Count(int n, string noun, string? plural = null) =>
        n.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + (n == 1 ? noun : plural ?? noun + "s");

    private protected static void RequireSameLength(string what, int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"{what} has {actual} values but the x values have {expected}; they must match.");
    }
}
