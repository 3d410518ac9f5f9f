// How library values show themselves in notebooks, without a dependency on .NET Interactive.
//
// .NET Interactive (Polyglot Notebooks, and `workbook notebooks run`, which runs the same engine) discovers
// formatters by convention: when it formats a value whose type carries an attribute whose type's simple name
// is "TypeFormatterSourceAttribute" (any namespace), it reads the attribute's public property
// FormatterSourceType (a Type), creates that type with its public parameterless constructor, calls its public
// method CreateTypeFormatters() (any IEnumerable), and takes from each returned object the public properties
// MimeType (string) and, optionally, Type (the type it formats; default: the annotated type), and the public
// method bool Format(object instance, TextWriter writer). The optional string[] PreferredMimeTypes property
// names exactly the MIME types display(x) and a cell's value emit.
// (dotnet/interactive, src/Microsoft.DotNet.Interactive.Formatting/Formatter.cs,
//  TryRegisterFromConventionBasedFormatterSources; the same pattern TorchSharp uses for tensors.)
//
// This file declares that attribute and one formatter source for every IMimeRenderable in the library:
// charts emit Plotly's figure JSON + PNG + text, image grids PNG + text (see Figures/).

namespace ConceptErasure.Workbook;

/// <summary>MIME type names used by the library's renderings.</summary>
public static class MimeTypes
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    public const string Png = "image/png";

    /// <summary>Plotly's figure JSON ({"data": [...], "layout": {...}}), rendered interactively by Jupyter front ends.</summary>
    public const string PlotlyJson = "application/vnd.plotly.v1+json";

    /// <summary>Every MIME type an IMimeRenderable may produce.</summary>
    public static readonly IReadOnlyList<string> All = new[] { PlotlyJson, Png, PlainText };
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
/// no reference to .NET Interactive.
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
