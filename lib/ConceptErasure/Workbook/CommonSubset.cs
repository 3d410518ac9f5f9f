// The common subset of C# notebook code that runs the same in Polyglot Notebooks and in the project's own
// runner: `#r "<path relative to the notebook>.dll"` to one library DLL, top-level C# statements, display(x),
// Console output and a trailing expression as the cell's value. Anything that only Polyglot understands is
// rejected before running, with the cell number (1-based, in notebook order, markdown cells counted) and
// line: magic commands (#!...), NuGet references (#r "nuget:..."), package sources (#i), #load, absolute
// or non-DLL #r paths, more than one referenced DLL, and the .NET Interactive API itself.
using System.Text.RegularExpressions;

namespace ConceptErasure.Workbook;

/// <summary>A violation of the common subset.</summary>
/// <param name="Cell">1-based cell number in notebook order (markdown cells counted).</param>
/// <param name="Line">1-based line within the cell.</param>
public sealed record SubsetViolation(int Cell, int Line, string Message)
{
    public override string ToString() => $"cell {Cell}, line {Line}: {Message}";
}

/// <summary>Checks notebooks against the common subset.</summary>
public static partial class CommonSubset
{
    [GeneratedRegex("^#r\\s+\"(?<path>[^\"]*)\"\\s*$")]
    private static partial Regex ReferenceDirective();

    /// <summary>The `#r` paths of a code cell's source, in order (text between the quotes).</summary>
    public static IReadOnlyList<string> References(string source) =>
        source.Split('\n').Select(l => ReferenceDirective().Match(l.Trim())).Where(m => m.Success).Select(m => m.Groups["path"].Value).ToList();

    /// <summary>All violations in the notebook's code cells; empty when it is in the subset.</summary>
    public static IReadOnlyList<SubsetViolation> Check(Notebook notebook)
    {
        var violations = new List<SubsetViolation>();
        string? firstDll = null;
        for (int c = 0; c < notebook.Cells.Count; c++)
        {
            var cell = notebook.Cells[c];
            if (cell.Kind != CellKind.Code) continue;
            var lines = cell.Source.Split('\n');
            for (int l = 0; l < lines.Length; l++)
            {
                var t = lines[l].Trim();
                void Add(string msg) => violations.Add(new SubsetViolation(c + 1, l + 1, msg));
                if (t.StartsWith("#!", StringComparison.Ordinal))
                    Add($"magic commands ('{First(t)}') are Polyglot-only; use plain C# (the runner has no magics).");
                else if (t.StartsWith("#i ", StringComparison.Ordinal) || t == "#i")
                    Add("'#i' (package sources) is Polyglot-only; reference the library DLL with #r instead.");
                else if (t.StartsWith("#load", StringComparison.Ordinal))
                    Add("'#load' is not in the common subset; put shared code in the library and #r its DLL.");
                else if (t.StartsWith("#r", StringComparison.Ordinal))
                {
                    var m = ReferenceDirective().Match(t);
                    if (!m.Success) { Add("'#r' must be written #r \"<path relative to the notebook>.dll\"."); continue; }
                    var path = m.Groups["path"].Value;
                    if (path.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                        Add($"NuGet references (#r \"{path}\") are Polyglot-only; #r the library DLL by a relative path instead.");
                    else if (Path.IsPathRooted(path) || path.StartsWith('~'))
                        Add($"'#r \"{path}\"' is an absolute path; use a path relative to the notebook's folder.");
                    else if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                        Add($"'#r \"{path}\"' does not name a .dll; the common subset references one library DLL.");
                    else if (firstDll is null)
                        firstDll = path;
                    else if (!string.Equals(Path.GetFileName(firstDll), Path.GetFileName(path), StringComparison.OrdinalIgnoreCase))
                        Add($"a second DLL ('{path}' after '{firstDll}'); the common subset references one library DLL.");
                }
                else if (t.Contains("Microsoft.DotNet.Interactive", StringComparison.Ordinal))
                    Add("the .NET Interactive API is Polyglot-only; use display(x) and the library's figures.");
            }
        }
        return violations;
    }

    private static string First(string line) => line.Split(' ', 2)[0];
}
