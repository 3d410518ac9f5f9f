// Tables for notebooks as Microsoft.Data.Analysis DataFrames, which .NET Interactive renders as HTML tables
// once the package's formatter extension is loaded (Polyglot Notebooks and `workbook notebooks run` both load
// it). Tables.From turns records (any class, record or anonymous type) into a DataFrame, one column per public
// property; Tables.Show keeps a table readable where scripts do not run: above 25 rows the DataFrame HTML
// hides its rows and pages them in by script, so GitHub and nbconvert would show an empty table.
using System.Reflection;
using Microsoft.Data.Analysis;

namespace ConceptErasure.Figures;

public static class Tables
{
    /// <summary>The most rows a DataFrame may show in a committed notebook (the formatter pages larger ones by script).</summary>
    public const int StaticRowLimit = 25;

    /// <summary>
    /// A DataFrame with one column per public property of <typeparamref name="T"/> (in declaration order), one row per
    /// item: numeric, bool and DateTime properties give typed columns (nullable ones keep nulls), anything else a
    /// string column of the values' invariant text.
    /// </summary>
    public static DataFrame From<T>(IEnumerable<T> items)
    {
        var rows = items.ToList();
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        if (props.Count == 0) throw new ArgumentException($"{typeof(T).Name} has no public properties to make columns of.", nameof(items));
        return new DataFrame(props.Select(p => Column(p.Name, Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType, rows.Select(r => p.GetValue(r)).ToList())));
    }

    /// <summary>
    /// The first <paramref name="maxRows"/> rows (at most 25, the static limit) of <paramref name="table"/>: what a
    /// committed notebook can show. Say in the text when rows were left out, or aggregate instead.
    /// </summary>
    public static DataFrame Show(this DataFrame table, int maxRows = StaticRowLimit)
    {
        if (maxRows < 1 || maxRows > StaticRowLimit)
            throw new ArgumentOutOfRangeException(nameof(maxRows), $"A committed table shows 1 to {StaticRowLimit} rows; above that static readers see an empty table.");
        return table.Rows.Count <= maxRows ? table : table.Head(maxRows);
    }

    private static DataFrameColumn Column(string name, Type type, IReadOnlyList<object?> values)
    {
        DataFrameColumn Typed<TV>() where TV : unmanaged => new PrimitiveDataFrameColumn<TV>(name, values.Select(v => v is null ? (TV?)null : (TV)v));
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Int32 => Typed<int>(),
            TypeCode.Int64 => Typed<long>(),
            TypeCode.Int16 => Typed<short>(),
            TypeCode.Byte => Typed<byte>(),
            TypeCode.Double => Typed<double>(),
            TypeCode.Single => Typed<float>(),
            TypeCode.Decimal => Typed<decimal>(),
            TypeCode.Boolean => Typed<bool>(),
            TypeCode.DateTime => Typed<DateTime>(),
            _ => new StringDataFrameColumn(name, values.Select(v => v switch
            {
                null => null,
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => v.ToString(),
            })),
        };
    }
}
