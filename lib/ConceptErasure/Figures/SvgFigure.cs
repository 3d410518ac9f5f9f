// SvgFigure.cs — the one rendering rule every SVG figure (charts, image grids) shares: the SVG for image/svg+xml
// and text/html, the plain-text description for text/plain, nothing else.
using ConceptErasure.Workbook;

namespace ConceptErasure.Figures;

internal static class SvgFigure
{
    public static bool TryRender(string mimeType, TextWriter writer, Func<string> svg, Func<string> describe)
    {
        switch (mimeType)
        {
            case MimeTypes.Svg:
            case MimeTypes.Html:
                writer.Write(svg());
                return true;
            case MimeTypes.PlainText:
                writer.Write(describe());
                return true;
            default:
                return false;
        }
    }
}
