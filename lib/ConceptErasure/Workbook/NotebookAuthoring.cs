// Authoring notebooks without hand-writing JSON. Two ways, both giving a Notebook with Polyglot metadata:
//   * NotebookBuilder, from C#:  new NotebookBuilder().Markdown("# Title").Code("1 + 1").Build()
//   * NotebookSource, from a Markdown text ("*.nb.md"): prose becomes markdown cells and every fenced block
//     whose info string is exactly csharp, cs or c# becomes a code cell. A line "<!-- cell -->" splits prose
//     into separate markdown cells; fences with any other info string stay inside the markdown.
// NotebookTemplate makes the starter notebook of `workbook notebooks new`.
using System.Text;

namespace ConceptErasure.Workbook;

/// <summary>Builds a notebook from a list of markdown and code cells.</summary>
public sealed class NotebookBuilder
{
    private readonly Notebook _notebook = new();

    /// <summary>Appends a markdown cell.</summary>
    public NotebookBuilder Markdown(string text)
    {
        _notebook.Cells.Add(new NotebookCell(CellKind.Markdown, Normalize(text)));
        return this;
    }

    /// <summary>Appends a C# code cell (not executed).</summary>
    public NotebookBuilder Code(string code)
    {
        _notebook.Cells.Add(new NotebookCell(CellKind.Code, Normalize(code)));
        return this;
    }

    /// <summary>The notebook, with Polyglot metadata and content-derived cell ids.</summary>
    public Notebook Build()
    {
        NotebookConventions.ApplyPolyglotMetadata(_notebook);
        return _notebook;
    }

    /// <summary>Unix line ends and no trailing newline, the way notebook editors keep cell sources.</summary>
    internal static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n', ' ', '\t');
}

/// <summary>Converts the Markdown source format ("*.nb.md") into a notebook.</summary>
public static class NotebookSource
{
    /// <summary>The line that splits prose into separate markdown cells.</summary>
    public const string CellBreak = "<!-- cell -->";

    /// <summary>Info strings of fenced blocks that become code cells.</summary>
    public static readonly IReadOnlyList<string> CodeInfoStrings = new[] { "csharp", "cs", "c#" };

    /// <summary>Parses the Markdown source text into a notebook.</summary>
    public static Notebook Parse(string text)
    {
        var builder = new NotebookBuilder();
        var prose = new StringBuilder();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed == CellBreak)
            {
                FlushProse(builder, prose);
                continue;
            }
            if (IsFence(trimmed, out var fence, out var info))
            {
                int close = FindClosingFence(lines, i + 1, fence);
                if (close < 0) throw new FormatException($"Line {i + 1}: the code fence opened here is never closed.");
                if (CodeInfoStrings.Contains(info, StringComparer.OrdinalIgnoreCase))
                {
                    FlushProse(builder, prose);
                    builder.Code(string.Join('\n', lines[(i + 1)..close]));
                }
                else
                {
                    for (int k = i; k <= close; k++) prose.Append(lines[k]).Append('\n');
                }
                i = close;
                continue;
            }
            prose.Append(line).Append('\n');
        }
        FlushProse(builder, prose);
        return builder.Build();
    }

    /// <summary>Reads a source file and parses it.</summary>
    public static Notebook Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No notebook source at '{path}'.", path);
        try
        {
            return Parse(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The .ipynb path for a source path: "x.nb.md" or "x.md" becomes "x.ipynb".</summary>
    public static string NotebookPathFor(string sourcePath)
    {
        var name = Path.GetFileName(sourcePath);
        foreach (var ext in new[] { ".nb.md", ".md" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase))
                return Path.Combine(Path.GetDirectoryName(sourcePath) ?? "", name[..^ext.Length] + ".ipynb");
        return Path.ChangeExtension(sourcePath, ".ipynb");
    }

    private static void FlushProse(NotebookBuilder builder, StringBuilder prose)
    {
        var text = prose.ToString().Trim('\n');
        if (text.Trim().Length > 0) builder.Markdown(text);
        prose.Clear();
    }

    private static bool IsFence(string trimmed, out string fence, out string info)
    {
        fence = "";
        info = "";
        char c = trimmed.Length > 0 ? trimmed[0] : '\0';
        if (c != '`' && c != '~') return false;
        int n = 0;
        while (n < trimmed.Length && trimmed[n] == c) n++;
        if (n < 3) return false;
        fence = trimmed[..n];
        info = trimmed[n..].Trim();
        return true;
    }

    private static int FindClosingFence(string[] lines, int from, string fence)
    {
        for (int k = from; k < lines.Length; k++)
        {
            var t = lines[k].Trim();
            if (t.Length >= fence.Length && t.All(ch => ch == fence[0])) return k;
        }
        return -1;
    }
}

/// <summary>The starter notebook written by `workbook notebooks new`.</summary>
public static class NotebookTemplate
{
    /// <summary>A notebook with a title, a setup cell referencing the library package and an example figure.</summary>
    /// <param name="title">The heading of the first markdown cell.</param>
    public static Notebook Create(string title) => new NotebookBuilder()
        .Markdown($"# {title}\n\nWhat this notebook shows, in one or two sentences.")
        .Code($"{LibraryPackage.Directive}\nusing ConceptErasure.Workbook;\nusing ConceptErasure.Figures;\n\n" +
              "// Run.Fast is true under `workbook notebooks run --fast`: use it to shrink iterations.\n" +
              "var steps = Run.Choose(full: 1000, fast: 10);\nConsole.WriteLine($\"steps: {steps}\");")
        .Markdown("## A first figure")
        .Code("var xs = Enumerable.Range(0, 20).Select(i => (double)i).ToArray();\n" +
              "new LineChart(\"Example\", \"step\", \"value\")\n    .Add(\"linear\", xs, xs.Select(x => 2 * x + 1).ToArray())")
        .Build();
}
