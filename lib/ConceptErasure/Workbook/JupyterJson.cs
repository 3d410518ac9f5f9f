// Writes JSON the way Jupyter itself saves notebooks (Python's json.dumps with sort_keys=True, indent=1,
// ensure_ascii=False, plus a trailing newline), so a notebook written here, re-saved by Jupyter, shows no
// spurious diff. Keys are sorted ordinally, only '"', '\' and control characters are escaped, integers are
// written as they were read, and floating-point numbers as Python's repr writes them (shortest round-trip
// digits; "1e-05", "2.0", "1e+16"), which matters for the many numbers of a chart's Plotly figure.
// Reading uses System.Text.Json's node model.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConceptErasure.Workbook;

/// <summary>Deterministic JSON text in Jupyter's on-disk layout.</summary>
public static class JupyterJson
{
    /// <summary>Serializes <paramref name="node"/> with sorted keys, one-space indent and a trailing newline.</summary>
    public static string Write(JsonNode? node)
    {
        var sb = new StringBuilder();
        WriteNode(sb, node, 0);
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>Parses JSON text into a node tree; comments and trailing commas are rejected like Jupyter does.</summary>
    public static JsonNode Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text) ?? throw new FormatException("The notebook file holds the JSON literal null, not an object.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The notebook file is not valid JSON: {e.Message}", e);
        }
    }

    private static void WriteNode(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                WriteObject(sb, obj, depth);
                break;
            case JsonArray arr:
                WriteArray(sb, arr, depth);
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteObject(StringBuilder sb, JsonObject obj, int depth)
    {
        if (obj.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        var keys = obj.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal).ToList();
        sb.Append("{\n");
        for (int i = 0; i < keys.Count; i++)
        {
            Indent(sb, depth + 1);
            WriteString(sb, keys[i]);
            sb.Append(": ");
            WriteNode(sb, obj[keys[i]], depth + 1);
            sb.Append(i + 1 < keys.Count ? ",\n" : "\n");
        }
        Indent(sb, depth);
        sb.Append('}');
    }

    private static void WriteArray(StringBuilder sb, JsonArray arr, int depth)
    {
        if (arr.Count == 0)
        {
            sb.Append("[]");
            return;
        }
        sb.Append("[\n");
        for (int i = 0; i < arr.Count; i++)
        {
            Indent(sb, depth + 1);
            WriteNode(sb, arr[i], depth + 1);
            sb.Append(i + 1 < arr.Count ? ",\n" : "\n");
        }
        Indent(sb, depth);
        sb.Append(']');
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        var element = value.GetValueKind();
        switch (element)
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                sb.Append(FormatNumber(value));
                break;
            default:
                throw new InvalidOperationException($"Cannot write a JSON value of kind {element}.");
        }
    }

    private static string FormatNumber(JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            // A number read from text: an integer literal stays as written (Python keeps it an int), anything else is a float.
            var raw = element.GetRawText();
            return raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0 ? raw : PythonFloat(element.GetDouble());
        }
        if (value.TryGetValue<int>(out var i)) return i.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue<long>(out var l)) return l.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue<double>(out var d)) return PythonFloat(d);
        if (value.TryGetValue<float>(out var f)) return PythonFloat(double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
        return value.ToJsonString();
    }

    /// <summary>
    /// A double as Python's repr (and so json.dumps) writes it: the shortest digits that round-trip, in fixed
    /// notation with at least one decimal when the decimal exponent is in [-4, 16), else as d.ddde±XX.
    /// </summary>
    public static string PythonFloat(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsInfinity(d)) return d > 0 ? "Infinity" : "-Infinity";
        var sign = d < 0 || (d == 0 && double.IsNegative(d)) ? "-" : "";
        if (d == 0) return sign + "0.0";
        // "R" gives the shortest round-trip digits; rebuild them as 0.DIGITS × 10^point.
        var r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        int exponent = e < 0 ? 0 : int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? r : r[..e];
        int dot = mantissa.IndexOf('.');
        var digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int point = (dot < 0 ? mantissa.Length : dot) + exponent;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..].TrimEnd('0');
        point -= lead;
        if (digits.Length == 0) return sign + "0.0";
        if (point <= -4 || point > 16)
        {
            var exp = point - 1;
            var head = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return sign + head + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        if (point <= 0) return sign + "0." + new string('0', -point) + digits;
        if (point >= digits.Length) return sign + digits + new string('0', point - digits.Length) + ".0";
        return sign + digits[..point] + "." + digits[point..];
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    private static void Indent(StringBuilder sb, int depth) => sb.Append(' ', depth);
}
