// The headless runner on the real engine (one workbook-kernel process per notebook). A fixture notebook in
// the test output (inside the repository, so #r "nuget: ConceptErasure, …" restores this build from
// .packages/) produces the outputs Polyglot Notebooks would: merged streams, a chart displayed as exactly
// Plotly JSON + PNG + text, an image grid as PNG + text, a DataFrame as an HTML table (so the package's
// formatter extension was loaded), fast mode and the notebook's folder reaching the kernel, and a display
// replaced by its update. Re-running gives identical bytes without absolute paths. A failing cell is named
// and stops the run; a cell that outlives --cell-timeout fails its notebook; a cell calling Environment.Exit
// fails its notebook loudly while the next notebook still runs; SIGTERM stops the run and writes what ran.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ConceptErasure.Cli.Notebooks;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

public class NotebookRunnerTests
{
    private static Notebook Fixture(params string[] extraCells)
    {
        var b = new NotebookBuilder()
            .Markdown("# Fixture")
            .Code(NotebookTestSupport.LibraryPrelude + "Console.WriteLine(\"hello\");\nvar n = Run.Choose(full: 100, fast: 3);")
            .Code("Console.Write(\"n=\" + n);\nConsole.Write(\"!\");\nConsole.Error.WriteLine(\"warn\");\nn * 2")
            .Code("display(new ScatterChart(\"points\").Add(\"a\", new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 }, new[] { \"p\", \"q\" }).Highlight(\"q\"));")
            .Code("new ImageGrid(\"grid\").Add(new float[3, 2, 2], \"black\")")
            .Code("Tables.From(new[] { new { key = \"n\", value = n } })")
            .Code("$\"{Environment.GetEnvironmentVariable(\"WORKBOOK_FAST\")} {Run.Fast} {System.IO.Path.GetFileName(Environment.CurrentDirectory)}\"")
            .Code("var shown = Microsoft.DotNet.Interactive.KernelInvocationContextExtensions.Display(Microsoft.DotNet.Interactive.KernelInvocationContext.Current, \"step 1\", \"text/plain\");\nshown.Update(\"step 2\");")
            .Code("int unused = 1;");
        foreach (var c in extraCells) b.Code(c);
        return b.Build();
    }

    private static NotebookRunner Runner(bool fast = true, TextWriter? progress = null, TimeSpan? interval = null, TimeSpan? timeout = null) =>
        new(new NotebookRunOptions(Fast: fast, Progress: progress ?? TextWriter.Null, ProgressInterval: interval, CellTimeout: timeout));

    private static MimeBundle Data(CellOutput o) => o switch
    {
        DisplayDataOutput d => d.Data,
        ExecuteResultOutput r => r.Data,
        _ => throw new Xunit.Sdk.XunitException($"expected a display or a result, got {o}"),
    };

    [Fact]
    public async Task Fixture_produces_the_engines_outputs_and_a_rerun_is_byte_identical()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("fixture.ipynb");
        Fixture().Save(path);
        var result = await Runner().RunFileAsync(path);
        Assert.True(result.Succeeded, result.Error);
        NotebookTestSupport.AssertValidNbformat(path);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal(new int?[] { null, 1, 2, 3, 4, 5, 6, 7, 8 }, cells.Select(c => c.ExecutionCount));

        var setup = cells[1].Outputs;   // the package restore's display, then the cell's own output
        Assert.Contains("ConceptErasure, " + LibraryPackage.Version, Data(setup[0])[MimeTypes.Html]);
        Assert.Equal(new StreamOutput("stdout", "hello\n"), setup[^1]);

        var outs = cells[2].Outputs;
        Assert.Equal(new StreamOutput("stdout", "n=3!"), outs[0]);
        Assert.Equal(new StreamOutput("stderr", "warn\n"), outs[1]);
        var six = Assert.IsType<ExecuteResultOutput>(outs[2]);
        Assert.Equal(2, six.ExecutionCount);
        Assert.Contains("<pre>6</pre>", six.Data[MimeTypes.Html]);

        var chart = Data(Assert.IsType<DisplayDataOutput>(Assert.Single(cells[3].Outputs)));
        Assert.Equal(new[] { MimeTypes.PlotlyJson, MimeTypes.Png, MimeTypes.PlainText }.Order(StringComparer.Ordinal), chart.MimeTypes);
        Assert.Contains("q (2, 4)", JsonNode.Parse(chart[MimeTypes.PlotlyJson])!["data"]![0]!["hovertext"]!.ToJsonString());
        Assert.Equal(new byte[] { 137, 80, 78, 71 }, Convert.FromBase64String(chart[MimeTypes.Png])[..4]);
        Assert.StartsWith("ScatterChart \"points\"", chart[MimeTypes.PlainText]);

        var grid = Data(Assert.Single(cells[4].Outputs));
        Assert.Equal(new[] { MimeTypes.Png, MimeTypes.PlainText }, grid.MimeTypes);
        Assert.StartsWith("ImageGrid \"grid\": 1 image (2×2)", grid[MimeTypes.PlainText]);

        // The DataFrame formatter comes from Microsoft.Data.Analysis's interactive-extensions folder: without the
        // runner's extension loader the engine would render the object as a tree view instead of a table.
        var table = Data(Assert.Single(cells[5].Outputs));
        Assert.StartsWith("<table id=\"table_c6_1\"><thead><tr><th><i>index</i></th><th>key</th><th>value</th>", table[MimeTypes.Html]);
        Assert.Contains("<td>n</td>", table[MimeTypes.Html]);

        Assert.Equal($"1 True {Path.GetFileName(tmp.Path)}", Data(Assert.Single(cells[6].Outputs))[MimeTypes.PlainText]);
        Assert.Equal("step 2", Data(Assert.Single(cells[7].Outputs))[MimeTypes.PlainText]);
        Assert.Empty(cells[8].Outputs);

        var first = File.ReadAllBytes(path);
        await Runner().RunFileAsync(path);
        Assert.Equal(first, File.ReadAllBytes(path));
        var outputs = string.Join("\n", JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray().Select(c => c!["outputs"]?.ToJsonString() ?? ""));
        Assert.DoesNotContain(tmp.Path, outputs);
        Assert.DoesNotContain(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + Path.DirectorySeparatorChar, outputs);
    }

    [Fact]
    public async Task A_failing_cell_is_named_and_stops_the_run()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("failing.ipynb");
        new NotebookBuilder().Markdown("# Failing").Code("var n = 3;")
            .Code("Console.WriteLine(\"before\");\nthrow new InvalidOperationException(\"concept not found: \" + n);")
            .Code("Console.WriteLine(\"never\");").Build().Save(path);
        var result = await Runner().RunFileAsync(path);
        Assert.False(result.Succeeded);
        Assert.Equal(3, result.FailedCell);
        Assert.Equal("System.InvalidOperationException: concept not found: 3", result.Error);
        NotebookTestSupport.AssertValidNbformat(path);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal(new StreamOutput("stdout", "before\n"), cells[2].Outputs[0]);
        var error = Assert.IsType<ErrorOutput>(cells[2].Outputs[1]);
        Assert.Equal(("System.InvalidOperationException", "concept not found: 3"), (error.EName, error.EValue));
        Assert.Equal("Cell 3 failed: System.InvalidOperationException: concept not found: 3", error.Traceback[0]);
        Assert.Contains("   at cell 3", error.Traceback);
        Assert.DoesNotContain(error.Traceback, line => line.Contains('/') || line.Contains('\\'));
        Assert.Empty(cells[3].Outputs);
        Assert.Null(cells[3].ExecutionCount);
    }

    [Fact]
    public async Task A_cell_that_outlives_the_timeout_fails_and_long_cells_report_progress()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("slow.ipynb");
        new NotebookBuilder().Markdown("# Slow").Code("System.Threading.Thread.Sleep(1500);\n\"done\"")
            .Code("System.Threading.Thread.Sleep(120_000);").Code("\"never\"").Build().Save(path);
        var progress = new StringWriter();
        var clock = Stopwatch.StartNew();
        var result = await Runner(progress: TextWriter.Synchronized(progress), interval: TimeSpan.FromMilliseconds(100), timeout: TimeSpan.FromSeconds(8)).RunFileAsync(path);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the timeout did not stop the cell ({clock.Elapsed})");
        Assert.Equal(3, result.FailedCell);
        Assert.StartsWith("CellTimeout: the cell ran longer than 8.0 s", result.Error);
        var log = progress.ToString();
        Assert.Contains("slow.ipynb: cell 2/4 still running", log);
        Assert.Contains("slow.ipynb: cell 2/4 [1] ok in", log);
        Assert.Contains("slow.ipynb: cell 3/4 [2] FAILED in", log);
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("still running", text);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal("CellTimeout", Assert.IsType<ErrorOutput>(Assert.Single(cells[2].Outputs)).EName);
        Assert.Null(cells[3].ExecutionCount);
    }

    [Fact]
    public void The_run_command_fails_a_notebook_that_ends_the_kernel_and_still_runs_the_next()
    {
        using var tmp = new TempFolder();
        var exit = tmp.File("exit.ipynb");
        var bad = tmp.File("bad.ipynb");
        var good = tmp.File("good.ipynb");
        new NotebookBuilder().Markdown("# Exit").Code("Console.WriteLine(\"bye\");").Code("Environment.Exit(3);").Code("\"never\"").Build().Save(exit);
        new NotebookBuilder().Markdown("# Bad").Code("var ok = 1;\nvar bad = undefinedName + ok;").Build().Save(bad);
        new NotebookBuilder().Markdown("# Good").Code("1 + 1").Build().Save(good);
        var goodBefore = File.ReadAllBytes(good);
        var outDir = Path.Combine(tmp.Path, "out");

        var (code, output) = RunCli("notebooks", "run", exit, bad, good, "--fast", "--out", outDir);
        Assert.True(code == 1, output);
        Assert.Contains("exit.ipynb: cell 3 failed: KernelExited: the kernel process ended while cell 3 ran (exit code 3)", output);
        Assert.Contains("bad.ipynb: cell 2 failed: CompilationError: (2,11): error CS0103", output);
        Assert.Contains($"{good}: ok, 1 code cells", output);
        Assert.Equal(goodBefore, File.ReadAllBytes(good));

        var exited = Notebook.Load(Path.Combine(outDir, "exit.ipynb")).Cells;
        Assert.Equal(new StreamOutput("stdout", "bye\n"), Assert.Single(exited[1].Outputs));
        Assert.Equal("KernelExited", Assert.IsType<ErrorOutput>(Assert.Single(exited[2].Outputs)).EName);
        var compile = Assert.IsType<ErrorOutput>(Assert.Single(Notebook.Load(Path.Combine(outDir, "bad.ipynb")).Cells[1].Outputs));
        Assert.Equal("CompilationError", compile.EName);
        NotebookTestSupport.AssertValidNbformat(Path.Combine(outDir, "good.ipynb"));
    }

    [Fact]
    public void Sigterm_stops_the_run_and_writes_what_ran()
    {
        if (OperatingSystem.IsWindows()) return;   // no POSIX signals
        using var tmp = new TempFolder();
        var path = tmp.File("stopped.ipynb");
        new NotebookBuilder().Markdown("# Stopped").Code("Console.WriteLine(\"started\");").Code("System.Threading.Thread.Sleep(120_000);").Code("\"never\"").Build().Save(path);
        using var p = StartCli("notebooks", "run", path);
        var stderr = new System.Text.StringBuilder();
        var firstCellDone = new TaskCompletionSource();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data.Contains("cell 2/4 [1] ok")) firstCellDone.TrySetResult();
        };
        p.BeginErrorReadLine();
        var stdout = p.StandardOutput.ReadToEndAsync();
        Assert.True(firstCellDone.Task.Wait(TimeSpan.FromSeconds(90)), "the first cell never finished:\n" + stderr);
        Thread.Sleep(500);
        Assert.Equal(0, Kill(p.Id, 15));
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)), "the command did not stop after SIGTERM");
        p.WaitForExit();
        string log;
        lock (stderr) log = stderr.ToString() + stdout.Result;
        Assert.True(p.ExitCode == 130, $"exit code {p.ExitCode}:\n{log}");
        Assert.DoesNotContain("Unhandled exception", log);
        Assert.Contains("stopped.ipynb: cell 3 failed: Interrupted", log);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal(new StreamOutput("stdout", "started\n"), Assert.Single(cells[1].Outputs));
        Assert.Equal("Interrupted", Assert.IsType<ErrorOutput>(Assert.Single(cells[2].Outputs)).EName);
        Assert.Null(cells[3].ExecutionCount);
    }

    [Fact]
    public void The_build_command_converts_markdown_sources()
    {
        using var tmp = new TempFolder();
        var source = tmp.File("study.nb.md");
        File.WriteAllText(source, "# Study\n\n```csharp\n#r \"nuget: Microsoft.Data.Analysis, 0.23.1\"\n1 + 1\n```\n\n```csharp\n#!time\n2\n```\n");
        var (code, output) = RunCli("notebooks", "build", source);
        Assert.True(code == 0, output);
        var notebook = tmp.File("study.ipynb");
        NotebookTestSupport.AssertValidNbformat(notebook);
        Assert.Equal(new[] { CellKind.Markdown, CellKind.Code, CellKind.Code }, Notebook.Load(notebook).Cells.Select(c => c.Kind));
        Assert.DoesNotContain("warning", output);   // magics and NuGet directives are the engine's business now
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static Process StartCli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "workbook.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static (int Code, string Output) RunCli(params string[] args)
    {
        using var p = StartCli(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}
