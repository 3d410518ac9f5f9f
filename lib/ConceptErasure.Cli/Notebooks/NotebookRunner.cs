// Executes a notebook headlessly with Roslyn scripting, the way Polyglot Notebooks would: code cells run in
// order in one scripting session (state carries across cells), `#r` paths resolve against the notebook's
// folder (which is also the working directory during the run), Console output becomes stream outputs,
// display(x) and a cell's trailing expression become display_data / execute_result bundles rendered by
// ConceptErasure.Workbook.MimeRenderer (the same TypeFormatterSource formatters Polyglot uses), and an
// exception becomes an error output naming the cell, after which the remaining cells are left unrun.
// Outputs carry no timestamps, paths or machine names, so re-running an unchanged notebook reproduces it
// byte for byte. Progress (cell, elapsed time) goes to the runner's stderr, never into the notebook.
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using ConceptErasure.Workbook;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace ConceptErasure.Cli.Notebooks;

/// <summary>How a notebook is run.</summary>
/// <param name="Fast">Sets WORKBOOK_FAST=1 (Run.Fast) so notebooks shrink their iterations (default false: "0").</param>
/// <param name="Progress">Where per-cell progress lines go (default: the process's stderr).</param>
/// <param name="ProgressInterval">How often a long-running cell reports that it is still running (default 10 s).</param>
public sealed record NotebookRunOptions(bool Fast = false, TextWriter? Progress = null, TimeSpan? ProgressInterval = null);

/// <summary>What happened when a notebook ran.</summary>
/// <param name="FailedCell">1-based number (in notebook order) of the cell that failed, or null.</param>
/// <param name="Error">"ExceptionType: message" of the failure, or null.</param>
/// <param name="CodeCellsRun">How many code cells executed (including the failing one).</param>
public sealed record NotebookRunResult(Notebook Notebook, int? FailedCell, string? Error, int CodeCellsRun)
{
    public bool Succeeded => FailedCell is null;
}

/// <summary>The outputs of the cell that is running: stream text is merged, displays are appended.</summary>
internal sealed class CellOutputSink
{
    private readonly object _gate = new();

    public List<CellOutput> Outputs { get; } = new();

    public void Stream(string name, string text)
    {
        if (text.Length == 0) return;
        lock (_gate)
        {
            if (Outputs.Count > 0 && Outputs[^1] is StreamOutput last && last.Name == name)
                Outputs[^1] = last with { Text = last.Text + text };
            else
                Outputs.Add(new StreamOutput(name, text));
        }
    }

    public void Add(CellOutput output)
    {
        lock (_gate) Outputs.Add(output);
    }
}

/// <summary>
/// Console.Out / Console.Error replacement: text written from the running cell's execution flow (including
/// tasks and threads it starts) goes to that cell's sink; anything else passes through unchanged.
/// </summary>
internal sealed class CapturingWriter : TextWriter
{
    internal static readonly AsyncLocal<CellOutputSink?> Current = new();

    private readonly string _name;
    private readonly TextWriter _passThrough;

    public CapturingWriter(string name, TextWriter passThrough)
    {
        _name = name;
        _passThrough = passThrough;
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override IFormatProvider FormatProvider => CultureInfo.InvariantCulture;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (value is null) return;
        if (Current.Value is { } sink) sink.Stream(_name, value.Replace("\r\n", "\n"));
        else _passThrough.Write(value);
    }

    public override void WriteLine(string? value) => Write((value ?? "") + "\n");

    public override void WriteLine() => Write("\n");

    public override void Flush()
    {
        if (Current.Value is null) _passThrough.Flush();
    }
}

/// <summary>The globals a notebook's code sees: display(), as in Polyglot Notebooks.</summary>
public sealed class NotebookGlobals
{
    /// <summary>Shows <paramref name="value"/> below the cell, rendered for its preferred MIME types (or the given ones).</summary>
    public void display(object? value, params string[] mimeTypes)
    {
        var sink = CapturingWriter.Current.Value
            ?? throw new InvalidOperationException("display() was called outside a running notebook cell.");
        sink.Add(new DisplayDataOutput(MimeRenderer.Render(value, mimeTypes)));
    }
}

/// <summary>Runs notebooks; see the file header for the behaviour.</summary>
public sealed class NotebookRunner
{
    /// <summary>Namespaces imported in every cell, matching Polyglot's C# kernel defaults.</summary>
    public static readonly IReadOnlyList<string> DefaultImports = new[]
    {
        "System", "System.Collections", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks",
    };

    private static readonly Lazy<IReadOnlyList<MetadataReference>> FrameworkReferences = new(LoadFrameworkReferences);

    private readonly NotebookRunOptions _options;

    public NotebookRunner(NotebookRunOptions? options = null) => _options = options ?? new NotebookRunOptions();

    /// <summary>Loads, checks, runs and saves a notebook file (in place, or to <paramref name="outputPath"/>).</summary>
    public async Task<NotebookRunResult> RunFileAsync(string path, string? outputPath = null, CancellationToken ct = default)
    {
        var notebook = Notebook.Load(path);
        var violations = CommonSubset.Check(notebook);
        if (violations.Count > 0)
            throw new NotebookSubsetException(Path.GetFileName(path), violations);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var result = await RunAsync(notebook, dir, Path.GetFileName(path), ct);
        notebook.Save(outputPath ?? path);
        return result;
    }

    /// <summary>Runs the notebook's code cells in order, replacing their outputs. <paramref name="directory"/> anchors #r paths and is the working directory.</summary>
    public async Task<NotebookRunResult> RunAsync(Notebook notebook, string directory, string name, CancellationToken ct = default)
    {
        NotebookConventions.ApplyPolyglotMetadata(notebook);
        var progress = _options.Progress ?? Console.Error;
        var interval = _options.ProgressInterval ?? TimeSpan.FromSeconds(10);
        CheckReferences(notebook, directory, name, progress);

        var saved = (Out: Console.Out, Err: Console.Error, Dir: Environment.CurrentDirectory, Fast: Environment.GetEnvironmentVariable(Run.FastVariable),
                     Culture: CultureInfo.CurrentCulture, UiCulture: CultureInfo.CurrentUICulture);
        Console.SetOut(new CapturingWriter("stdout", saved.Out));
        Console.SetError(new CapturingWriter("stderr", saved.Err));
        Environment.CurrentDirectory = directory;
        Environment.SetEnvironmentVariable(Run.FastVariable, _options.Fast ? "1" : "0");
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
        try
        {
            return await RunCellsAsync(notebook, directory, name, progress, interval, ct);
        }
        finally
        {
            Console.SetOut(saved.Out);
            Console.SetError(saved.Err);
            Environment.CurrentDirectory = saved.Dir;
            Environment.SetEnvironmentVariable(Run.FastVariable, saved.Fast);
            CultureInfo.CurrentCulture = saved.Culture;
            CultureInfo.CurrentUICulture = saved.UiCulture;
        }
    }

    private async Task<NotebookRunResult> RunCellsAsync(Notebook notebook, string directory, string name, TextWriter progress, TimeSpan interval, CancellationToken ct)
    {
        var options = ScriptOptions.Default
            .WithReferences(FrameworkReferences.Value)
            .WithImports(DefaultImports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(directory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(directory))
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(false);
        var globals = new NotebookGlobals();
        ScriptState<object>? state = null;
        int executionCount = 0, total = notebook.Cells.Count;
        int? failed = null;
        string? error = null;

        for (int i = 0; i < total; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.Kind != CellKind.Code) continue;
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
            if (failed is not null || string.IsNullOrWhiteSpace(cell.Source)) continue;

            int number = i + 1;
            cell.ExecutionCount = ++executionCount;
            var sink = new CellOutputSink();
            var clock = Stopwatch.StartNew();
            using var ticker = new Timer(_ => progress.WriteLine(
                $"  {name}: cell {number}/{total} still running, {clock.Elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture)} s"),
                null, interval, interval);

            var script = state is null
                ? CSharpScript.Create(cell.Source, options, typeof(NotebookGlobals))
                : state.Script.ContinueWith(cell.Source, options);
            var diagnostics = script.Compile(ct).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (diagnostics.Count > 0)
            {
                var lines = diagnostics.Select(FormatDiagnostic).ToList();
                var evalue = lines[0] + (lines.Count > 1 ? $" (and {lines.Count - 1} more)" : "");
                sink.Add(new ErrorOutput("CompilationError", evalue, new[] { $"Cell {number} did not compile:" }.Concat(lines).ToList()));
                (failed, error) = (number, "CompilationError: " + evalue);
            }
            else
            {
                bool hasValue = HasTrailingValue(script.GetCompilation());
                CapturingWriter.Current.Value = sink;
                try
                {
                    state = state is null
                        ? await script.RunAsync(globals, _ => true, ct)
                        : await script.RunFromAsync(state, _ => true, ct);
                }
                finally
                {
                    CapturingWriter.Current.Value = null;
                }
                if (state.Exception is { } ex)
                {
                    var ename = ex.GetType().FullName ?? ex.GetType().Name;
                    sink.Add(new ErrorOutput(ename, ex.Message, Traceback(ex, number)));
                    (failed, error) = (number, $"{ename}: {ex.Message}");
                }
                else if (hasValue)
                {
                    sink.Add(new ExecuteResultOutput(executionCount, MimeRenderer.Render(state.ReturnValue)));
                }
            }
            cell.Outputs.AddRange(sink.Outputs);
            var outcome = failed == number ? "FAILED" : "ok";
            progress.WriteLine($"  {name}: cell {number}/{total} [{executionCount}] {outcome} in {clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        }
        return new NotebookRunResult(notebook, failed, error, executionCount);
    }

    /// <summary>True when the submission ends in an expression without ';' whose type is not void (the cell's value).</summary>
    private static bool HasTrailingValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Last();
        var last = tree.GetRoot().ChildNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax>().LastOrDefault();
        if (last?.Statement is not Microsoft.CodeAnalysis.CSharp.Syntax.ExpressionStatementSyntax { SemicolonToken.IsMissing: true } statement)
            return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }

    /// <summary>
    /// Checks that every #r target exists, so a wrong path fails with the path the author wrote, and warns when
    /// it is a different build of this library than the runner's: an assembly with the same identity is already
    /// loaded, so the runner's copy is the one the notebook uses.
    /// </summary>
    private static void CheckReferences(Notebook notebook, string directory, string name, TextWriter progress)
    {
        var own = typeof(Notebook).Assembly;
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            if (notebook.Cells[i].Kind != CellKind.Code) continue;
            foreach (var reference in CommonSubset.References(notebook.Cells[i].Source))
            {
                var full = Path.Combine(directory, reference);
                if (!File.Exists(full))
                    throw new FileNotFoundException(
                        $"{name}, cell {i + 1}: #r \"{reference}\" does not exist relative to the notebook's folder (build the library first?).");
                if (string.Equals(Path.GetFileName(full), Path.GetFileName(own.Location), StringComparison.OrdinalIgnoreCase) && ModuleVersion(full) != own.ManifestModule.ModuleVersionId)
                    progress.WriteLine($"  {name}: note: #r \"{reference}\" is a different build of {Path.GetFileName(full)} than the runner's; the runner's copy is used (rebuild with `dotnet build lib.sln`).");
            }
        }
    }

    private static Guid ModuleVersion(string path)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(path));
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        return md.GetGuid(md.GetModuleDefinition().Mvid);
    }

    /// <summary>"(line,column): error CSxxxx: message", with cell-relative positions and no file paths.</summary>
    private static string FormatDiagnostic(Diagnostic d)
    {
        var pos = d.Location.GetLineSpan().StartLinePosition;
        return string.Create(CultureInfo.InvariantCulture, $"({pos.Line + 1},{pos.Character + 1}): error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
    }

    /// <summary>The exception chain and the frames of cell and library code, without file paths.</summary>
    private static List<string> Traceback(Exception ex, int cell)
    {
        var lines = new List<string> { $"Cell {cell} failed: {ex.GetType().FullName}: {ex.Message}" };
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            lines.Add($" ---> {inner.GetType().FullName}: {inner.Message}");
        int shown = 0;
        foreach (var frame in new StackTrace(ex, fNeedFileInfo: false).GetFrames())
        {
            var method = frame.GetMethod();
            var type = method?.DeclaringType;
            if (method is null || type is null) continue;
            var ns = type.Namespace ?? "";
            if (ns.StartsWith("System.Runtime.CompilerServices", StringComparison.Ordinal) || ns.StartsWith("System.Threading", StringComparison.Ordinal) || ns.StartsWith("System.Runtime.ExceptionServices", StringComparison.Ordinal) ||
                ns.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
                continue;
            var text = type.FullName?.StartsWith("Submission#", StringComparison.Ordinal) == true
                ? $"   at cell {cell}"
                : $"   at {FriendlyTypeName(type)}.{method.Name}";
            if (lines[^1] != text) lines.Add(text);
            if (++shown == 20) break;
        }
        return lines;
    }

    private static string FriendlyTypeName(Type type)
    {
        // Compiler-generated state machines ("<Method>d__3") read better as their declaring type and method.
        var name = type.FullName ?? type.Name;
        var angle = name.IndexOf('<');
        if (angle > 0 && type.DeclaringType is not null) return (type.DeclaringType.FullName ?? type.DeclaringType.Name) + "." + name[(angle + 1)..name.IndexOf('>')];
        return name;
    }

    /// <summary>References to every managed assembly of the shared framework, as Polyglot's C# kernel has.</summary>
    private static IReadOnlyList<MetadataReference> LoadFrameworkReferences()
    {
        var refs = new List<MetadataReference>();
        foreach (var file in Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").OrderBy(f => f, StringComparer.Ordinal))
        {
            try
            {
                AssemblyName.GetAssemblyName(file);
                refs.Add(MetadataReference.CreateFromFile(file));
            }
            catch (BadImageFormatException)
            {
                // Native DLLs in the runtime folder are not references.
            }
        }
        return refs;
    }
}

/// <summary>A notebook uses something outside the common subset; nothing was run.</summary>
public sealed class NotebookSubsetException : Exception
{
    public NotebookSubsetException(string notebook, IReadOnlyList<SubsetViolation> violations)
        : base($"{notebook} is outside the common subset:\n  " + string.Join("\n  ", violations.Select(v => v.ToString())))
    {
        Violations = violations;
    }

    public IReadOnlyList<SubsetViolation> Violations { get; }
}
