// Rendering by the TypeFormatterSource convention: the library's attribute and formatter source have the
// shape .NET Interactive looks for by name, every renderable library type declares them, MimeRenderer honours
// preferred MIME types, discovers a foreign attribute of the same name, and falls back to readable text.
using System.Reflection;
using ConceptErasure.Figures;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook
{
    public class FormattingTests
    {
        [Fact]
        public void Formatter_source_has_the_shape_dotnet_interactive_discovers_by_name()
        {
            var attr = typeof(LineChart).GetCustomAttributes(true).Single(a => a.GetType().Name == "TypeFormatterSourceAttribute");
            var sourceType = attr.GetType().GetProperty("FormatterSourceType")!.GetValue(attr) as Type;
            Assert.NotNull(sourceType);
            Assert.NotNull(sourceType!.GetConstructor(Type.EmptyTypes));
            var create = sourceType.GetMethod("CreateTypeFormatters");
            Assert.NotNull(create);
            var formatters = ((System.Collections.IEnumerable)create!.Invoke(Activator.CreateInstance(sourceType), null)!).Cast<object>().ToList();
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
            var preferred = attr.GetType().GetProperty("PreferredMimeTypes")!.GetValue(attr) as string[];
            Assert.Equal(new[] { MimeTypes.Html, MimeTypes.Svg, MimeTypes.PlainText }, preferred);
        }

        [Fact]
        public void Every_renderable_library_type_declares_a_formatter_source()
        {
            var renderables = typeof(IMimeRenderable).Assembly.GetTypes()
                .Where(t => typeof(IMimeRenderable).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
            Assert.Contains(typeof(ImageGrid), renderables);
            foreach (var t in renderables)
                Assert.True(t.GetCustomAttribute<TypeFormatterSourceAttribute>() is not null, $"{t.Name} has no [TypeFormatterSource].");
        }

        [Fact]
        public void Chart_renders_its_preferred_mime_types()
        {
            var chart = new BarChart("t", "x", "y", new[] { "a", "b" }).Add("s", new[] { 1.0, 2.0 });
            var bundle = MimeRenderer.Render(chart);
            Assert.Equal(new[] { MimeTypes.Svg, MimeTypes.Html, MimeTypes.PlainText }.OrderBy(m => m, StringComparer.Ordinal), bundle.MimeTypes);
            Assert.StartsWith("<svg", bundle[MimeTypes.Svg]);
            Assert.StartsWith("BarChart \"t\"", bundle[MimeTypes.PlainText]);
        }

        [Fact]
        public void Requested_mime_types_narrow_the_bundle()
        {
            var table = new HtmlTable("a").AddRow(1);
            var bundle = MimeRenderer.Render(table, new[] { MimeTypes.PlainText });
            Assert.Equal(new[] { MimeTypes.PlainText }, bundle.MimeTypes);
        }

        [Fact]
        public void Foreign_attribute_with_the_conventional_name_is_honoured()
        {
            var bundle = MimeRenderer.Render(new Foreign.Widget());
            Assert.Equal("<b>widget</b>", bundle[MimeTypes.Html]);
            Assert.Equal("widget", bundle[MimeTypes.PlainText]);
        }

        [Fact]
        public void Unknown_values_fall_back_to_readable_text()
        {
            Assert.Equal("<null>", MimeRenderer.Render(null)[MimeTypes.PlainText]);
            Assert.Equal("1.5", MimeRenderer.Render(1.5)[MimeTypes.PlainText]);
            Assert.Equal("[ 1, 2, 3 ]", MimeRenderer.Render(new List<int> { 1, 2, 3 })[MimeTypes.PlainText]);
            Assert.Equal("Dictionary<string, int> (2 entries)\n  a: 1\n  b: 2",
                MimeRenderer.Render(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 })[MimeTypes.PlainText]);
            Assert.Equal("P { X = 1 }", MimeRenderer.Render(new P(1))[MimeTypes.PlainText]);
            Assert.Equal("List<P> (2 items)\n  - P { X = 1 }\n  - P { X = 2 }", MimeRenderer.Render(new List<P> { new(1), new(2) })[MimeTypes.PlainText]);
            var many = MimeRenderer.Render(Enumerable.Range(0, 150).ToArray())[MimeTypes.PlainText];
            Assert.EndsWith("… (50 more) ]", many);
            Assert.Equal(new[] { MimeTypes.PlainText }, MimeRenderer.Render(new object()).MimeTypes);
        }

        private sealed record P(int X);
    }
}

namespace ConceptErasure.Tests.Workbook.Foreign
{
    // A stand-in for another library's convention-based formatter: same attribute name, different namespace.
    [AttributeUsage(AttributeTargets.Class)]
    internal sealed class TypeFormatterSourceAttribute : Attribute
    {
        public TypeFormatterSourceAttribute(Type formatterSourceType) => FormatterSourceType = formatterSourceType;

        public Type FormatterSourceType { get; }
    }

    internal sealed class WidgetFormatterSource
    {
        public IEnumerable<object> CreateTypeFormatters()
        {
            yield return new WidgetFormatter("text/html", "<b>widget</b>");
            yield return new WidgetFormatter("text/plain", "widget");
        }
    }

    internal sealed class WidgetFormatter
    {
        private readonly string _text;

        public WidgetFormatter(string mimeType, string text) => (MimeType, _text) = (mimeType, text);

        public string MimeType { get; }

        public bool Format(object instance, TextWriter writer)
        {
            writer.Write(_text);
            return true;
        }
    }

    [TypeFormatterSource(typeof(WidgetFormatterSource))]
    internal sealed class Widget
    {
    }
}
