// How library values show themselves in notebooks, without a dependency on .NET Interactive.
//
// .NET Interactive (Polyglot Notebooks) discovers formatters by convention: when it formats a value whose
// type carries an attribute whose type's simple name is "TypeFormatterSourceAttribute" (any namespace), it
// reads the attribute's public property FormatterSourceType (a Type), creates that type with its public
// parameterless constructor, calls its public method CreateTypeFormatters() (any IEnumerable), and takes
// from each returned object the public properties MimeType (string) and, optionally, Type (the type it
// formats; default: the annotated type), and the public method bool Format(object instance, TextWriter
// writer). The optional string[] PreferredMimeTypes property names the MIME types display() emits.
// (dotnet/interactive, src/Microsoft.DotNet.Interactive.Formatting/Formatter.cs,
//  TryRegisterFromConventionBasedFormatterSources; the same pattern TorchSharp uses for tensors.)
//
// This file declares that attribute, one formatter source for every IMimeRenderable in the library, and
// MimeRenderer: the notebook runner's renderer, which discovers formatters the same way (by name, by
// reflection), so a value looks the same in Polyglot Notebooks and in `workbook notebooks run`. Values
// without a formatter source fall back to PlainText (ToString, or a listing for collections).
using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace ConceptErasure.Workbook;

/// <summary>MIME type names used by the library's renderings.</summary>
public static class MimeTypes
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    public const string Svg = "image/svg+xml";
    public const string Png = "image/png";

    /// <summary>Every MIME type an IMimeRenderable may produce.</summary>
    public static readonly IReadOnlyList<string> All = new[] { Html, Svg, Png, PlainText };
}

/// <summary>A library value that renders itself for notebooks (charts, image grids, tables).</summary>
public interface IMimeRenderable
{
    /// <summary>Writes the value in <paramref name="mimeType"/>; returns false if it has no such rendering.
    /// Binary types (image/png) are written as base64 text, as notebooks store them.</summary>
    bool TryRender(string mimeType, TextWriter writer);
}

/// <summary>
/// Names the formatter source of a type. .NET Interactive finds it by its simple name, so this library needs
/// no reference to .NET Interactive; MimeRenderer finds it the same way.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class TypeFormatterSourceAttribute : Attribute
{
    public TypeFormatterSourceAttribute(Type formatterSourceType) => FormatterSourceType = formatterSourceType;

    /// <summary>A type with a public parameterless constructor and a public CreateTypeFormatters() method.</summary>
    public Type FormatterSourceType { get; }

    /// <summary>The MIME types display() emits for the type, richest first; null: all it has.</summary>
    public string[]? PreferredMimeTypes { get; set; }
}

/// <summary>One formatter by .NET Interactive's convention: Type, MimeType and Format(object, TextWriter).</summary>
public sealed class MimeRenderableFormatter
{
    public MimeRenderableFormatter(string mimeType) => MimeType = mimeType;

    /// <summary>The values this formatter handles.</summary>
    public Type Type => typeof(IMimeRenderable);

    public string MimeType { get; }

    public bool Format(object instance, TextWriter writer) =>
        instance is IMimeRenderable r && r.TryRender(MimeType, writer);
}

/// <summary>The formatter source named by every renderable library type.</summary>
public sealed class WorkbookFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() =>
        MimeTypes.All.Select(m => (object)new MimeRenderableFormatter(m)).ToList();
}

/// <summary>Plain-text renderings for values without a formatter source.</summary>
public static class PlainText
{
    /// <summary>How many items of a collection are listed before "… (N more)".</summary>
    public const int ListLimit = 100;

    /// <summary>ToString in the invariant culture, or a readable listing for collections.</summary>
    public static string Format(object? value)
    {
        switch (value)
        {
            case null:
                return "<null>";
            case string s:
                return s;
            case IFormattable f:
                return f.ToString(null, CultureInfo.InvariantCulture);
            case IDictionary dict:
                return FormatDictionary(dict);
            case IEnumerable seq when !HasOwnToString(value.GetType()):
                return FormatSequence(seq, value.GetType());
            default:
                return value.ToString() ?? "";
        }
    }

    /// <summary>C#-style name of a type, e.g. "List&lt;int&gt;" or "double[]".</summary>
    public static string TypeName(Type t)
    {
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        var keyword = Type.GetTypeCode(t) switch
        {
            TypeCode.Int32 => "int",
            TypeCode.Int64 => "long",
            TypeCode.Double => "double",
            TypeCode.Single => "float",
            TypeCode.String => "string",
            TypeCode.Boolean => "bool",
            TypeCode.Byte => "byte",
            _ => null,
        };
        if (keyword is not null && !t.IsEnum) return keyword;
        if (t.Name.Contains("AnonymousType", StringComparison.Ordinal)) return "anonymous";
        if (!t.IsGenericType) return t.Name;
        var name = t.Name;
        var tick = name.IndexOf('`');
        if (tick >= 0) name = name[..tick];
        return name + "<" + string.Join(", ", t.GetGenericArguments().Select(TypeName)) + ">";
    }

    private static bool HasOwnToString(Type t)
    {
        var m = t.GetMethod(nameof(ToString), Type.EmptyTypes);
        return m is not null && m.DeclaringType != typeof(object) && m.DeclaringType != typeof(ValueType);
    }

    private static bool IsScalar(object? item) => item is null or string or IFormattable or bool or char;

    private static string FormatSequence(IEnumerable seq, Type type)
    {
        var items = new List<object?>();
        int total = 0;
        foreach (var item in seq)
        {
            if (total < ListLimit) items.Add(item);
            total++;
        }
        var more = total > items.Count ? $" … ({total - items.Count} more)" : "";
        if (items.All(IsScalar))
            return "[ " + string.Join(", ", items.Select(Format)) + more + (items.Count > 0 ? " ]" : "]");
        var sb = new StringBuilder();
        sb.Append(TypeName(type)).Append(" (").Append(total.ToString(CultureInfo.InvariantCulture)).Append(total == 1 ? " item)" : " items)");
        foreach (var item in items) sb.Append('\n').Append("  - ").Append(Indent(Format(item)));
        if (more.Length > 0) sb.Append('\n').Append("  …").Append(more[2..]);
        return sb.ToString();
    }

    private static string FormatDictionary(IDictionary dict)
    {
        var sb = new StringBuilder();
        sb.Append(TypeName(dict.GetType())).Append(" (").Append(dict.Count.ToString(CultureInfo.InvariantCulture)).Append(dict.Count == 1 ? " entry)" : " entries)");
        int n = 0;
        foreach (DictionaryEntry e in dict)
        {
            if (n++ == ListLimit)
            {
                sb.Append('\n').Append($"  … ({dict.Count - ListLimit} more)");
                break;
            }
            sb.Append('\n').Append("  ").Append(Format(e.Key)).Append(": ").Append(Indent(Format(e.Value)));
        }
        return sb.ToString();
    }

    private static string Indent(string s) => s.Replace("\n", "\n    ");
}

/// <summary>
/// Renders any value as a MIME bundle the way Polyglot Notebooks would: through the formatters of the type's
/// TypeFormatterSourceAttribute (matched by name, so attributes from other libraries count too), limited
/// to its preferred MIME types, always with a text/plain rendering.
/// </summary>
public static class MimeRenderer
{
    private sealed record Formatter(string MimeType, Type? Handles, Func<object, TextWriter, bool> Format);

    private sealed record FormatterSet(IReadOnlyList<Formatter> Formatters, IReadOnlyList<string>? Preferred);

    private static readonly ConcurrentDictionary<Type, FormatterSet> Cache = new();

    /// <summary>Renders <paramref name="value"/>; <paramref name="mimeTypes"/> narrows the bundle (text/plain is always added).</summary>
    public static MimeBundle Render(object? value, IReadOnlyList<string>? mimeTypes = null)
    {
        var bundle = new MimeBundle();
        if (value is null)
        {
            bundle[MimeTypes.PlainText] = PlainText.Format(null);
            return bundle;
        }
        var set = Cache.GetOrAdd(value.GetType(), Discover);
        var wanted = mimeTypes is { Count: > 0 } ? mimeTypes
            : set.Preferred ?? set.Formatters.Select(f => f.MimeType).Distinct().ToList();
        foreach (var mime in wanted.Append(MimeTypes.PlainText).Distinct())
        {
            foreach (var f in set.Formatters.Where(f => f.MimeType == mime && (f.Handles is null || f.Handles.IsInstanceOfType(value))))
            {
                using var writer = new StringWriter(CultureInfo.InvariantCulture);
                if (f.Format(value, writer))
                {
                    bundle[mime] = writer.ToString();
                    break;
                }
            }
        }
        if (!bundle.Contains(MimeTypes.PlainText)) bundle[MimeTypes.PlainText] = PlainText.Format(value);
        return bundle;
    }

    private static FormatterSet Discover(Type type)
    {
        var formatters = new List<Formatter>();
        List<string>? preferred = null;
        foreach (var attr in type.GetCustomAttributes(true).Where(a => a.GetType().Name == nameof(TypeFormatterSourceAttribute)))
        {
            var attrType = attr.GetType();
            if (attrType.GetProperty(nameof(TypeFormatterSourceAttribute.FormatterSourceType))?.GetValue(attr) is not Type sourceType) continue;
            if (attrType.GetProperty(nameof(TypeFormatterSourceAttribute.PreferredMimeTypes))?.GetValue(attr) is string[] pm && pm.Length > 0)
                preferred = pm.ToList();
            var source = Activator.CreateInstance(sourceType)
                ?? throw new InvalidOperationException($"Could not create the formatter source {sourceType.FullName}.");
            var create = sourceType.GetMethod("CreateTypeFormatters", Type.EmptyTypes)
                ?? throw new InvalidOperationException($"The formatter source {sourceType.FullName} has no public CreateTypeFormatters() method.");
            if (create.Invoke(source, null) is not IEnumerable created) continue;
            foreach (var f in created)
            {
                if (f is null) continue;
                var ft = f.GetType();
                if (ft.GetProperty("MimeType")?.GetValue(f) is not string mime) continue;
                var handles = ft.GetProperty("Type")?.GetValue(f) as Type;
                var method = ft.GetMethod("Format", new[] { typeof(object), typeof(TextWriter) });
                if (method is null || method.ReturnType != typeof(bool)) continue;
                var target = f;
                formatters.Add(new Formatter(mime, handles, (v, w) => Invoke(method, target, v, w)));
            }
        }
        return new FormatterSet(formatters, preferred);
    }

    private static bool Invoke(MethodInfo method, object target, object value, TextWriter writer)
    {
        try
        {
            return (bool)method.Invoke(target, new[] { value, writer })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
