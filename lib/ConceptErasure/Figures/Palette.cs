// Colours and number formatting shared by both renderings of every chart (the Plotly figure and the PNG),
// so that the interactive and the static picture agree: a colour-blind-safe categorical palette, a highlight
// colour, the viridis colour map, and values written with four significant digits in the invariant culture.
using System.Globalization;

namespace ConceptErasure.Figures;

/// <summary>Colours: a colour-blind-safe categorical palette and a perceptually uniform colour map.</summary>
public static class Palette
{
    /// <summary>Okabe–Ito colours (black moved last), distinguishable with common colour-vision deficiencies.</summary>
    public static readonly IReadOnlyList<string> Categorical = new[]
    {
        "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    };

    /// <summary>The highlight colour for annotated points.</summary>
    public const string Highlight = "#D62728";

    // Nine samples of the viridis colour map, interpolated linearly in between.
    private static readonly (double R, double G, double B)[] Viridis =
    {
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    };

    /// <summary>The series colour for index <paramref name="i"/> (cycling).</summary>
    public static string Series(int i) => Categorical[((i % Categorical.Count) + Categorical.Count) % Categorical.Count];

    /// <summary>Viridis colour for t in [0, 1] as "#rrggbb" (NaN: light grey).</summary>
    public static string Sequential(double t)
    {
        if (double.IsNaN(t)) return "#cccccc";
        t = Math.Clamp(t, 0, 1) * (Viridis.Length - 1);
        int i = Math.Min((int)Math.Floor(t), Viridis.Length - 2);
        double f = t - i;
        var (r0, g0, b0) = Viridis[i];
        var (r1, g1, b1) = Viridis[i + 1];
        return Hex(r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f);
    }

    /// <summary>The colour map as Plotly's colorscale: [position, colour] pairs from 0 to 1.</summary>
    public static IEnumerable<(double At, string Color)> SequentialStops() =>
        Enumerable.Range(0, Viridis.Length).Select(i => ((double)i / (Viridis.Length - 1), Sequential((double)i / (Viridis.Length - 1))));

    /// <summary>Black or white, whichever reads better on <paramref name="hex"/>.</summary>
    public static string TextOn(string hex)
    {
        int r = Convert.ToInt32(hex.Substring(1, 2), 16), g = Convert.ToInt32(hex.Substring(3, 2), 16), b = Convert.ToInt32(hex.Substring(5, 2), 16);
        return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000000" : "#ffffff";
    }

    /// <summary>"#rrggbb" as "rgba(r,g,b,alpha)" for translucent fills.</summary>
    public static string WithAlpha(string hex, double alpha) => string.Create(CultureInfo.InvariantCulture,
        $"rgba({Convert.ToInt32(hex.Substring(1, 2), 16)},{Convert.ToInt32(hex.Substring(3, 2), 16)},{Convert.ToInt32(hex.Substring(5, 2), 16)},{alpha:0.###})");

    private static string Hex(double r, double g, double b) => string.Create(CultureInfo.InvariantCulture,
        $"#{(int)Math.Round(r):x2}{(int)Math.Round(g):x2}{(int)Math.Round(b):x2}");
}

/// <summary>Invariant, fixed-precision text of data values for labels, hover text and descriptions.</summary>
public static class ChartText
{
    /// <summary>A value with four significant digits ("0.1235", "1.5e-05", "∞", "NaN").</summary>
    public static string Value(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsInfinity(v)) return v > 0 ? "∞" : "-∞";
        if (v == 0) return "0";
        var a = Math.Abs(v);
        if (a >= 1e6 || a < 1e-3) return v.ToString("0.###e0", CultureInfo.InvariantCulture);
        var s = v.ToString("G4", CultureInfo.InvariantCulture);
        return s == "-0" ? "0" : s;
    }

    /// <summary>A data value as stored in a figure: six significant digits, non-finite values as null.</summary>
    internal static double? Stored(double v) =>
        double.IsFinite(v) ? double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : null;
}
