// Building blocks of the SVG figures: invariant number formatting with fixed precision, XML escaping,
// "nice" axis ticks (1, 2, 5 × 10^k), linear scales from data to pixels, the categorical palette and the
// sequential colour map, and a small SVG writer. Everything here is deterministic: the same inputs give
// the same SVG text on every machine and culture.
using System.Globalization;
using System.Text;

namespace ConceptErasure.Figures;

/// <summary>Invariant, fixed-precision text for SVG attributes and labels.</summary>
internal static class SvgText
{
    /// <summary>A coordinate: at most one decimal, no trailing zeros, no "-0".</summary>
    public static string Px(double v)
    {
        var r = Math.Round(v, 1, MidpointRounding.AwayFromZero);
        if (r == 0) r = 0;
        return r.ToString("0.#", CultureInfo.InvariantCulture);
    }

    /// <summary>A data value for hover text and annotations: four significant digits.</summary>
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

    /// <summary>Escapes text for XML content and attribute values.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default:
                    // XML 1.0 forbids most control characters; drop them rather than emit an unreadable document.
                    if (c >= 0x20 || c == '\n' || c == '\t') sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Approximate rendered width of <paramref name="s"/> in a sans-serif font.</summary>
    public static double Width(string s, double fontSize) => s.Length * fontSize * 0.6;

    /// <summary>Shortens <paramref name="s"/> with an ellipsis so that it fits <paramref name="maxWidth"/>.</summary>
    public static string Fit(string s, double fontSize, double maxWidth)
    {
        int max = Math.Max(1, (int)(maxWidth / (fontSize * 0.6)));
        return s.Length <= max ? s : s[..Math.Max(1, max - 1)] + "…";
    }
}

/// <summary>Axis ticks at round numbers covering a data range.</summary>
internal sealed record NiceTicks(double Min, double Max, double Step, int Decimals)
{
    /// <summary>Tick positions from Min to Max inclusive.</summary>
    public IEnumerable<double> Values()
    {
        int n = (int)Math.Round((Max - Min) / Step);
        for (int i = 0; i <= n; i++) yield return Min + i * Step;
    }

    public string Label(double v)
    {
        var s = v.ToString("F" + Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return s.StartsWith('-') && s.Trim('-', '0', '.').Length == 0 ? s[1..] : s;
    }

    /// <summary>Ticks for [lo, hi] with about <paramref name="target"/> intervals; the range is widened to whole steps.</summary>
    public static NiceTicks For(double lo, double hi, int target = 5)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) (lo, hi) = (0, 1);
        if (hi < lo) (lo, hi) = (hi, lo);
        if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(hi)))
        {
            var pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
            (lo, hi) = (lo - pad, hi + pad);
        }
        var raw = (hi - lo) / Math.Max(1, target);
        var exp = Math.Floor(Math.Log10(raw));
        var pow = Math.Pow(10, exp);
        var frac = raw / pow;
        var nice = frac <= 1 ? 1 : frac <= 2 ? 2 : frac <= 2.5 ? 2.5 : frac <= 5 ? 5 : 10;
        var step = nice * pow;
        var min = Math.Floor(lo / step + 1e-9) * step;
        var max = Math.Ceiling(hi / step - 1e-9) * step;
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        if (nice == 2.5 && step < 10) decimals++;
        return new NiceTicks(min, max, step, Math.Min(decimals, 10));
    }
}

/// <summary>Maps a data interval linearly onto a pixel interval.</summary>
internal readonly record struct LinearScale(double D0, double D1, double P0, double P1)
{
    public double Map(double v) => D1 == D0 ? (P0 + P1) / 2 : P0 + (v - D0) / (D1 - D0) * (P1 - P0);
}

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

    /// <summary>Viridis colour for t in [0, 1] as "#rrggbb".</summary>
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

    /// <summary>Black or white, whichever reads better on <paramref name="hex"/>.</summary>
    public static string TextOn(string hex)
    {
        int r = Convert.ToInt32(hex.Substring(1, 2), 16), g = Convert.ToInt32(hex.Substring(3, 2), 16), b = Convert.ToInt32(hex.Substring(5, 2), 16);
        return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000000" : "#ffffff";
    }

    private static string Hex(double r, double g, double b) => string.Create(CultureInfo.InvariantCulture,
        $"#{(int)Math.Round(r):x2}{(int)Math.Round(g):x2}{(int)Math.Round(b):x2}");
}

/// <summary>Appends SVG elements to a document with consistent formatting.</summary>
internal sealed class SvgWriter
{
    private readonly StringBuilder _sb = new();

    public SvgWriter(double width, double height, string fontFamily, double fontSize)
    {
        _sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(SvgText.Px(width))
           .Append("\" height=\"").Append(SvgText.Px(height))
           .Append("\" viewBox=\"0 0 ").Append(SvgText.Px(width)).Append(' ').Append(SvgText.Px(height))
           .Append("\" font-family=\"").Append(SvgText.Escape(fontFamily))
           .Append("\" font-size=\"").Append(SvgText.Px(fontSize)).Append("\">\n");
        // An opaque background keeps dark-themed viewers (GitHub, VS Code) readable.
        Rect(0, 0, width, height, "fill=\"#ffffff\"");
    }

    /// <summary>Raw markup; attributes must already be escaped.</summary>
    public SvgWriter Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    public SvgWriter Rect(double x, double y, double w, double h, string attrs, string? title = null)
    {
        _sb.Append("<rect x=\"").Append(SvgText.Px(x)).Append("\" y=\"").Append(SvgText.Px(y))
           .Append("\" width=\"").Append(SvgText.Px(Math.Max(0, w))).Append("\" height=\"").Append(SvgText.Px(Math.Max(0, h)))
           .Append("\" ").Append(attrs);
        return Close("rect", title);
    }

    public SvgWriter Line(double x1, double y1, double x2, double y2, string attrs)
    {
        _sb.Append("<line x1=\"").Append(SvgText.Px(x1)).Append("\" y1=\"").Append(SvgText.Px(y1))
           .Append("\" x2=\"").Append(SvgText.Px(x2)).Append("\" y2=\"").Append(SvgText.Px(y2))
           .Append("\" ").Append(attrs).Append("/>\n");
        return this;
    }

    public SvgWriter Circle(double cx, double cy, double r, string attrs, string? title = null)
    {
        _sb.Append("<circle cx=\"").Append(SvgText.Px(cx)).Append("\" cy=\"").Append(SvgText.Px(cy))
           .Append("\" r=\"").Append(SvgText.Px(r)).Append("\" ").Append(attrs);
        return Close("circle", title);
    }

    /// <summary>A polyline (open) or polygon (closed) through the points.</summary>
    public SvgWriter Poly(IEnumerable<(double X, double Y)> points, bool closed, string attrs)
    {
        _sb.Append(closed ? "<polygon points=\"" : "<polyline points=\"")
           .Append(string.Join(" ", points.Select(p => SvgText.Px(p.X) + "," + SvgText.Px(p.Y))))
           .Append("\" ").Append(attrs).Append("/>\n");
        return this;
    }

    /// <summary>Text; <paramref name="anchor"/> is start, middle or end.</summary>
    public SvgWriter Text(double x, double y, string text, string anchor = "start", string attrs = "", double? rotate = null)
    {
        _sb.Append("<text x=\"").Append(SvgText.Px(x)).Append("\" y=\"").Append(SvgText.Px(y)).Append('"');
        if (anchor != "start") _sb.Append(" text-anchor=\"").Append(anchor).Append('"');
        if (rotate is { } deg)
            _sb.Append(" transform=\"rotate(").Append(SvgText.Px(deg)).Append(' ').Append(SvgText.Px(x)).Append(' ').Append(SvgText.Px(y)).Append(")\"");
        if (attrs.Length > 0) _sb.Append(' ').Append(attrs);
        _sb.Append('>').Append(SvgText.Escape(text)).Append("</text>\n");
        return this;
    }

    public string Finish() => _sb.ToString() + "</svg>\n";

    private SvgWriter Close(string element, string? title)
    {
        if (title is null) _sb.Append("/>\n");
        else _sb.Append("><title>").Append(SvgText.Escape(title)).Append("</title></").Append(element).Append(">\n");
        return this;
    }
}
