// Rendering by the TypeFormatterSource convention: the library's attribute and formatter source have the
// shape .NET Interactive looks for by name, every renderable library type declares them with exactly the
// MIME types it should emit (charts: Plotly JSON + PNG + text; grids: PNG + text; never text/html), and
// the formatters produce those renderings. That the engine itself emits these bundles is tested end to end
// in NotebookRunnerTests.
using System.Reflection;
using ConceptErasure.Figures;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

public class FormattingTests
{
    private static (string[] Preferred, List<object> Formatters) Convention(Type type)
    {
        var attr = type.GetCustomAttributes(true).Single(a => a.GetType().Name == "TypeFormatterSourceAttribute");
        var sourceType = (Type)attr.GetType().GetProperty("FormatterSourceType")!.GetValue(attr)!;
        Assert.NotNull(sourceType.GetConstructor(Type.EmptyTypes));
        var create = sourceType.GetMethod("CreateTypeFormatters")!;
        var formatters = ((System.Collections.IEnumerable)create.Invoke(Activator.CreateInstance(sourceType), null)!).Cast<object>().ToList();
        return ((string[])attr.GetType().GetProperty("PreferredMimeTypes")!.GetValue(attr)!, formatters);
    }

    [Fact]
    public void Formatter_source_has_the_shape_dotnet_interactive_discovers_by_name()
    {
        var (_, formatters) = Convention(typeof(LineChart));
        Assert.NotEmpty(formatters);
        foreach (var f in formatters)
        {
            var t = f.GetType();
            Assert.IsType<string>(t.GetProperty("MimeType")!.GetValue(f));
            Assert.IsAssignableFrom<Type>(t.GetProperty("Type")!.GetValue(f));
            // .NET Interactive calls GetMethod("Format") without parameter types: it must be unambiguous.
            var format = t.GetMethod("Format");
            Assert.Equal(typeof(bool), format!.ReturnType);
            Assert.Equal(new[] { typeof(object), typeof(TextWriter) }, format.GetParameters().Select(p => p.ParameterType));
        }
    }

    [Theory]
    [InlineData(typeof(Histogram))]
    [InlineData(typeof(ScatterChart))]
    [InlineData(typeof(LineChart))]
    [InlineData(typeof(BarChart))]
    [InlineData(typeof(Heatmap))]
    public void Charts_prefer_plotly_json_png_and_text_and_never_html(Type chart)
    {
        var (preferred, formatters) = Convention(chart);
        Assert.Equal(new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText }, preferred);
        Assert.DoesNotContain(MimeTypes.Html, preferred);
        Assert.All(preferred, m => Assert.Contains(formatters, f => (string)f.GetType().GetProperty("MimeType")!.GetValue(f)! == m));
    }

    [Fact]
    public void Image_grids_prefer_png_and_text()
    {
        Assert.Equal(new[] { MimeTypes.Png, MimeTypes.PlainText }, Convention(typeof(ImageGrid)).Preferred);
    }

    [Fact]
    public void Every_renderable_library_type_declares_a_formatter_source()
    {
        var renderables = typeof(IMimeRenderable).Assembly.GetTypes()
            .Where(t => typeof(IMimeRenderable).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
        Assert.Contains(typeof(ImageGrid), renderables);
        Assert.Contains(typeof(Heatmap), renderables);
        foreach (var t in renderables)
            Assert.True(t.GetCustomAttribute<TypeFormatterSourceAttribute>() is not null, $"{t.Name} has no [TypeFormatterSource].");
    }

    [Fact]
    public void The_formatters_write_the_renderings_and_decline_other_mime_types()
    {
        var chart = new BarChart("t", "x", "y", new[] { "a", "b" }).Add("s", new[] { 1.0, 2.0 });
        string Format(string mime)
        {
            var f = new MimeRenderableFormatter(mime);
            using var w = new StringWriter();
            Assert.True(f.Format(chart, w), mime);
            return w.ToString();
        }
        Assert.StartsWith("{\"data\":", Format(MimeTypes.PlotlyJson));
        Assert.Equal(new byte[] { 137, 80, 78, 71 }, Convert.FromBase64String(Format(MimeTypes.Png))[..4]);
        Assert.StartsWith("BarChart \"t\"", Format(MimeTypes.PlainText));
        Assert.False(new MimeRenderableFormatter(MimeTypes.Html).Format(chart, new StringWriter()));
        Assert.False(new MimeRenderableFormatter(MimeTypes.PlotlyJson).Format(new ImageGrid(), new StringWriter()));
        Assert.False(new MimeRenderableFormatter(MimeTypes.PlainText).Format("not a figure", new StringWriter()));
    }
}
