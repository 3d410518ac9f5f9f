// StrictJson.cs — the checks System.Text.Json does not make on the workbook's configuration files: a key given twice
// in one object (the reader would silently keep the last), and null where the configuration has no "absent" value
// (the reader would store a null that fails far away, as a NullReferenceException). Each problem names the file
// and the JSON path.
using System.Text.Json;

namespace ConceptErasure.Data;

public static class StrictJson
{
    /// <summary>The problems of <paramref name="json"/>, one line each ("source: $.erase[0] is null"); empty when none.
    /// <paramref name="nullable"/> names the top-level keys whose null means "absent".</summary>
    public static IReadOnlyList<string> Problems(string json, string source, IReadOnlySet<string>? nullable = null)
    {
        var problems = new List<string>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { return [$"{source}: not valid JSON ({e.Message})"]; }
        using (doc) Walk(doc.RootElement, "$", top: true);
        return problems;

        void Walk(JsonElement e, string path, bool top)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var p in e.EnumerateObject())
                    {
                        var child = $"{path}.{p.Name}";
                        if (!seen.Add(p.Name)) problems.Add($"{source}: {child} is given twice");
                        if (p.Value.ValueKind == JsonValueKind.Null)
                        {
                            if (!(top && nullable?.Contains(p.Name) == true)) problems.Add($"{source}: {child} is null (leave the key out for its default)");
                            continue;
                        }
                        Walk(p.Value, child, false);
                    }
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in e.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.Null) problems.Add($"{source}: {path}[{i}] is null");
                        else Walk(item, $"{path}[{i}]", false);
                        i++;
                    }
                    break;
            }
        }
    }

    /// <summary>Throws one InvalidDataException listing every problem.</summary>
    public static void Check(string json, string source, IReadOnlySet<string>? nullable = null)
    {
        var p = Problems(json, source, nullable);
        if (p.Count > 0) throw new InvalidDataException(string.Join("\n", p));
    }
}
