// Writes JSON the way Jupyter itself saves notebooks (Python's json.dumps with sort_keys=True, indent=1,
// ensure_ascii=False, plus a trailing newline), so a notebook written here, re-saved by Jupyter or VS Code,
// shows no spurious diff. Keys are sorted ordinally, only '"', '\' and control characters are escaped, and
// numbers are written in the invariant culture. Reading uses System.Text.Json's node model.
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
        if (value.TryGetValue<int>(out var i)) return i.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue<long>(out var l)) return l.ToString(CultureInfo.InvariantCulture);
        if (value.TryGetValue<double>(out var d)) return d.ToString("R", CultureInfo.InvariantCulture);
        // A number parsed from text keeps its original spelling.
        return value.ToJsonString();
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
