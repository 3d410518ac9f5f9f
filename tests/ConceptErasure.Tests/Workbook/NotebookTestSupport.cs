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

    /// <summary>Validates a notebook file with the official nbformat validator; fails the test with its message.</summary>
    public static void AssertValidNbformat(string path)
    {
        var (code, output) = RunPython("-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')", path);
        Assert.True(code == 0 && output.Contains("valid"), $"nbformat rejected {path}:\n{output}");
    }
}
