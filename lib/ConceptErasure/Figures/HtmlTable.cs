// A simple table for notebooks: text/html (an HTML table, numbers right-aligned) and text/plain (aligned
// columns). Cells are formatted in the invariant culture; floating-point numbers with four significant
// digits unless the table's NumberFormat says otherwise. Build it row by row, or from a list of records.
using System.Globalization;
using System.Reflection;
using System.Text;
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

/// <summary>A table shown as HTML in notebooks and as aligned text in terminals.</summary>
[TypeFormatterSource(typeof(WorkbookFormatterSource), PreferredMimeTypes = new[] { MimeTypes.Html, MimeTypes.PlainText })]
public sealed class HtmlTable : IMimeRenderable
{
    private readonly List<object?[]> _rows = new();

    public HtmlTable(params string[] columns) : this("", columns) { }

    public HtmlTable(string title, IReadOnlyList<string> columns)
    {
        if (columns.Count == 0) throw new ArgumentException("A table needs at least one column.", nameof(columns));
        Title = title ?? "";
        Columns = columns.ToArray();
    }

    public string Title { get; }

    public IReadOnlyList<string> Columns { get; }

    public int RowCount => _rows.Count;

    /// <summary>.NET format string for float and double cells (default "G4"; e.g. "F3" for fixed decimals).</summary>
    public string NumberFormat { get; init; } = "G4";

    /// <summary>A table with one column per public property of <typeparamref name="T"/>, one row per item.</summary>
    public static HtmlTable From<T>(IEnumerable<T> items, string title = "")
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        var table = new HtmlTable(title, props.Select(p => p.Name).ToArray());
        foreach (var item in items) table.AddRow(props.Select(p => p.GetValue(item)).ToArray());
        return table;
    }

    /// <summary>Appends a row with one value per column.</summary>
    public HtmlTable AddRow(params object?[] cells)
    {
        if (cells.Length != Columns.Count)
            throw new ArgumentException($"The row has {cells.Length} cells but the table has {Columns.Count} columns; they must match.");
        _rows.Add(cells);
        return this;
    }

    /// <summary>The text of a cell as the table shows it.</summary>
    public string FormatCell(object? value) => value switch
    {
        null => "",
        double d => d.ToString(NumberFormat, CultureInfo.InvariantCulture),
        float f => f.ToString(NumberFormat, CultureInfo.InvariantCulture),
        _ => PlainText.Format(value),
    };

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<table>\n");
        if (Title.Length > 0) sb.Append("<caption>").Append(SvgText.Escape(Title)).Append("</caption>\n");
        sb.Append("<thead><tr>");
        for (int i = 0; i < Columns.Count; i++)
            sb.Append(NumericColumn(i) ? "<th align=\"right\" style=\"text-align:right\">" : "<th align=\"left\" style=\"text-align:left\">")
              .Append(SvgText.Escape(Columns[i])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in _rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row)
            {
                bool numeric = IsNumber(cell);
                sb.Append(numeric ? "<td align=\"right\" style=\"text-align:right\">" : "<td align=\"left\" style=\"text-align:left\">")
                  .Append(SvgText.Escape(FormatCell(cell))).Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        return sb.ToString();
    }

    public string ToText()
    {
        var texts = _rows.Select(r => r.Select(FormatCell).ToArray()).ToList();
        var widths = Columns.Select((c, i) => Math.Max(c.Length, texts.Count == 0 ? 0 : texts.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        if (Title.Length > 0) sb.Append(Title).Append('\n');
        sb.Append(string.Join("  ", Columns.Select((c, i) => c.PadRight(widths[i]))).TrimEnd()).Append('\n');
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        for (int r = 0; r < texts.Count; r++)
        {
            var line = string.Join("  ", texts[r].Select((t, i) => IsNumber(_rows[r][i]) ? t.PadLeft(widths[i]) : t.PadRight(widths[i])));
            sb.Append(line.TrimEnd()).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }

    public bool TryRender(string mimeType, TextWriter writer)
    {
        switch (mimeType)
        {
            case MimeTypes.Html:
                writer.Write(ToHtml());
                return true;
            case MimeTypes.PlainText:
                writer.Write(ToText());
                return true;
            default:
                return false;
        }
    }

    public override string ToString() => ToText();

    private bool NumericColumn(int i) => _rows.Count > 0 && _rows.All(r => r[i] is null || IsNumber(r[i]));

    private static bool IsNumber(object? v) => v is sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal;
}
