// The two renderers behind Chart: PlotlyFigure assembles Plotly's figure JSON (traces plus a layout that
// mirrors the PNG: white background, light grid, the same title, labels, fonts and size) with numbers
// rounded to six significant digits and non-finite values as null; ChartImage sets up a ScottPlot plot with
// the same frame and renders it to PNG in-process (SkiaSharp; no browser). Both are deterministic: the same
// chart gives the same bytes on a given machine (the PNG depends on its installed fonts).
using System.Text.Json;
using System.Text.Json.Nodes;
using ScottPlot;
using SkiaSharp;

namespace ConceptErasure.Figures;

/// <summary>A Plotly figure under construction: <see cref="Data"/> (traces) and <see cref="Layout"/>.</summary>
internal sealed class PlotlyFigure
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public PlotlyFigure(Chart chart)
    {
        var s = chart.Style;
        Layout = new JsonObject
        {
            ["width"] = s.Width,
            ["height"] = s.Height,
            ["font"] = new JsonObject { ["family"] = s.FontFamily, ["size"] = s.FontSize, ["color"] = "#222222" },
            ["paper_bgcolor"] = "#ffffff",
            ["plot_bgcolor"] = "#ffffff",
            ["hovermode"] = "closest",
            ["margin"] = new JsonObject { ["l"] = 70, ["r"] = 20, ["t"] = chart.Title.Length > 0 ? 50 : 20, ["b"] = 60 },
            ["xaxis"] = Axis(chart.XLabel),
            ["yaxis"] = Axis(chart.YLabel),
        };
        if (chart.Title.Length > 0) Layout["title"] = new JsonObject { ["text"] = chart.Title, ["font"] = new JsonObject { ["size"] = s.FontSize * 1.25 } };
    }

    public JsonArray Data { get; } = new();

    public JsonObject Layout { get; }

    public JsonObject XAxis => (JsonObject)Layout["xaxis"]!;

    public JsonObject YAxis => (JsonObject)Layout["yaxis"]!;

    /// <summary>Adds a trace of the given type and returns it for filling in.</summary>
    public JsonObject Trace(string type, string? name = null)
    {
        var trace = new JsonObject { ["type"] = type };
        if (name is not null) trace["name"] = name;
        Data.Add(trace);
        return trace;
    }

    public string ToJson()
    {
        Layout["showlegend"] ??= Data.OfType<JsonObject>().Count(t => (bool?)t["showlegend"] != false) > 1;
        return new JsonObject { ["data"] = Data, ["layout"] = Layout }.ToJsonString(Compact);
    }

    /// <summary>Numbers as stored in the figure: six significant digits, NaN and ±∞ as null.</summary>
    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)(ChartText.Stored(v) is { } d ? JsonValue.Create(d) : null)).ToArray());

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    private static JsonObject Axis(string title)
    {
        var axis = new JsonObject
        {
            ["showline"] = true,
            ["linecolor"] = "#444444",
            ["ticks"] = "outside",
            ["gridcolor"] = "#e6e6e6",
            ["zeroline"] = false,
            ["automargin"] = true,
        };
        if (title.Length > 0) axis["title"] = new JsonObject { ["text"] = title };
        return axis;
    }
}

/// <summary>ScottPlot set up like the Plotly layout, and its PNG output.</summary>
internal static class ChartImage
{
    private static readonly Dictionary<string, string?> InstalledFonts = new(StringComparer.Ordinal);

    public static Plot Create(Chart chart)
    {
        var s = chart.Style;
        var plot = new Plot();
        if (FirstInstalledFont(s.FontFamily) is { } font) plot.Font.Set(font);
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Grid.MajorLineColor = Color.FromHex("#e6e6e6");
        plot.Axes.Right.FrameLineStyle.Width = 0;
        plot.Axes.Top.FrameLineStyle.Width = 0;
        foreach (var axis in new ScottPlot.AxisPanels.AxisBase[] { (ScottPlot.AxisPanels.AxisBase)plot.Axes.Bottom, (ScottPlot.AxisPanels.AxisBase)plot.Axes.Left })
        {
            axis.TickLabelStyle.FontSize = (float)s.FontSize;
            axis.LabelStyle.FontSize = (float)(s.FontSize * 1.1);
            axis.LabelStyle.Bold = false;
            axis.FrameLineStyle.Color = Color.FromHex("#444444");
        }
        if (chart.Title.Length > 0)
        {
            plot.Title(chart.Title, (float)(s.FontSize * 1.25));
            plot.Axes.Title.Label.Bold = true;
        }
        if (chart.XLabel.Length > 0) plot.XLabel(chart.XLabel, (float)(s.FontSize * 1.1));
        if (chart.YLabel.Length > 0) plot.YLabel(chart.YLabel, (float)(s.FontSize * 1.1));
        return plot;
    }

    /// <summary>Shows the legend outside the data area, on the right, when there is more than one series.</summary>
    public static void Legend(Plot plot, int series, double fontSize)
    {
        if (series < 2)
        {
            plot.HideLegend();
            return;
        }
        plot.Legend.FontSize = (float)fontSize;
        plot.Legend.ShadowColor = Colors.Transparent;
        plot.Legend.OutlineColor = Color.FromHex("#cccccc");
        plot.ShowLegend(Edge.Right);
    }

    /// <summary>Tilts the bottom axis' tick labels by 30° and makes room for them (for long category names).</summary>
    public static void TiltBottomLabels(Plot plot, IEnumerable<string> labels, double fontSize)
    {
        var longest = labels.Max(l => l.Length) * fontSize * 0.62;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = (float)(longest * Math.Sin(Math.PI / 6) + fontSize * 3.5);
    }

    public static byte[] Png(Plot plot, ChartStyle style) => plot.GetImageBytes(style.Width, style.Height, ImageFormat.Png);

    public static Color ColorOf(string hex, double alpha = 1) => Color.FromHex(hex).WithAlpha(alpha);

    /// <summary>The first installed font of a CSS font list, or the system's default typeface.</summary>
    public static SKTypeface Typeface(string families) =>
        FirstInstalledFont(families) is { } name ? SKTypeface.FromFamilyName(name) : SKTypeface.FromFamilyName(null);

    /// <summary>The first family of a CSS font list that the system has, or null for ScottPlot's default.</summary>
    private static string? FirstInstalledFont(string families)
    {
        lock (InstalledFonts)
        {
            if (InstalledFonts.TryGetValue(families, out var known)) return known;
            string? found = null;
            foreach (var name in families.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                using var typeface = SKFontManager.Default.MatchFamily(name.Trim('"', '\''));
                if (typeface is not null && string.Equals(typeface.FamilyName, name.Trim('"', '\''), StringComparison.OrdinalIgnoreCase))
                {
                    found = typeface.FamilyName;
                    break;
                }
            }
            return InstalledFonts[families] = found;
        }
    }
}
