// Removes what would make an unchanged notebook's outputs differ from run to run. The one known source is
// the DataFrame HTML formatter of Microsoft.Data.Analysis, which names each table "table_<clock ticks>" (and
// refers to that id from its paging script above 25 rows): every such id becomes "table_c<cell>_<n>", the
// n-th table of that cell, consistently within one output, so ids stay unique in the notebook and scripts
// still find their table.
using System.Text.RegularExpressions;

namespace ConceptErasure.Cli.Notebooks;

internal static partial class OutputNormalizer
{
    [GeneratedRegex(@"\btable_(\d{6,})\b")]
    private static partial Regex TimedTableId();

    /// <summary>The value with clock-derived table ids replaced; <paramref name="tables"/> counts the cell's tables so far.</summary>
    public static string Normalize(string mimeType, string value, int cell, ref int tables)
    {
        if (mimeType != "text/html" || !value.Contains("table_", StringComparison.Ordinal)) return value;
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        int next = tables;
        var result = TimedTableId().Replace(value, m =>
        {
            if (!ids.TryGetValue(m.Groups[1].Value, out var id))
                ids[m.Groups[1].Value] = id = $"table_c{cell}_{++next}";
            return id;
        });
        tables = next;
        return result;
    }
}
