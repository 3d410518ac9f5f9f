// Csv.cs — the two halves of the small CSV dialect the workbook writes (history.csv, runs.csv, concepts.csv):
// fields separated by commas, a field quoted when it holds a comma, a quote or a newline, quotes doubled inside.
using System.Text;

namespace ConceptErasure.Data;

public static class Csv
{
    /// <summary>The field as written: quoted only when it must be; null becomes the empty field.</summary>
    public static string Quote(string? s) => s is null ? "" : s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>The fields of one line (the inverse of joining <see cref="Quote"/>d fields with commas).</summary>
    public static List<string> Split(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
