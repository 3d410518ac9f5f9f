// Shared helpers for the notebook tests: temporary folders (inside the test output, so inside the
// repository: a kernel started there finds the repository's NuGet.Config and with it the library package
// of .packages/), the official nbformat validator (Debian's python3-nbformat, run with /usr/bin/python3),
// and the library's #r "nuget: …" directive.
using System.Diagnostics;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

/// <summary>A temporary folder below the test output, deleted when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(AppContext.BaseDirectory, "notebook-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal static class NotebookTestSupport
{
    private const string Python = "/usr/bin/python3";

    /// <summary>The first lines of a notebook that uses the library: the package directive and the usual namespaces.</summary>
    public static string LibraryPrelude =>
        LibraryPackage.Directive + "\nusing ConceptErasure.Workbook;\nusing ConceptErasure.Figures;\n";

    /// <summary>Runs Python; returns (exit code, stdout + stderr).</summary>
    public static (int ExitCode, string Output) RunPython(params string[] args)
    {
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing; install Debian's python3, python3-nbformat and python3-nbconvert.");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    static readonly Lazy<bool> HasNbformat = new(() => HasPython && RunPython("-c", "import nbformat").ExitCode == 0);

    /// <summary>Debian's /usr/bin/python3 is there (`./workbook setup` installs it; a machine with only the .NET SDK may
    /// lack it, and the checks that compare with Python's own output are then left to `./workbook test`).</summary>
    public static bool HasPython => PythonRuns.Value;

    static readonly Lazy<bool> PythonRuns = new(() => File.Exists(Python) && RunPython("-c", "pass").ExitCode == 0);

    /// <summary>Validates a notebook file with the official nbformat validator (Debian's python3-nbformat, which
    /// `./workbook setup` installs); where it is not installed — `dotnet test` on a machine with only the .NET SDK —
    /// with the structural checks of nbformat 4.5 the library's writer must meet (`./workbook test` then validates every
    /// notebook with the official validator anyway).</summary>
    public static void AssertValidNbformat(string path)
    {
        if (HasNbformat.Value)
        {
            var (code, output) = RunPython("-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')", path);
            Assert.True(code == 0 && output.Contains("valid"), $"nbformat rejected {path}:\n{output}");
            return;
        }
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(4, (int)root["nbformat"]!);
        Assert.True((int)root["nbformat_minor"]! >= 5, "nbformat_minor ≥ 5 (cell ids)");
        Assert.NotNull(root["metadata"]);
        var ids = new HashSet<string>();
        foreach (var cell in root["cells"]!.AsArray())
        {
            var type = (string)cell!["cell_type"]!;
            Assert.Contains(type, new[] { "code", "markdown", "raw" });
            var id = (string)cell["id"]!;
            Assert.Matches("^[a-zA-Z0-9-_]{1,64}$", id);
            Assert.True(ids.Add(id), $"cell id {id} is not unique");
            Assert.NotNull(cell["source"]);
            Assert.NotNull(cell["metadata"]);
            if (type != "code") continue;
            Assert.True(cell["outputs"] is System.Text.Json.Nodes.JsonArray, "a code cell has outputs");
            foreach (var o in cell["outputs"]!.AsArray())
                Assert.Contains((string)o!["output_type"]!, new[] { "stream", "display_data", "execute_result", "error" });
        }
    }
}
