// The headless runner: a fixture notebook (generated into a temporary folder, with #r to the ConceptErasure.dll
// beside the test assembly, relative to the notebook) produces the expected stream, display, result and
// error outputs; state carries across cells; fast mode reaches the notebook; a failing cell is named and
// stops the run; re-running gives identical bytes; Polyglot-only code is refused before anything runs; and
// the `workbook notebooks run` command exits non-zero on failure. These tests swap Console.Out and the
// working directory while a notebook runs, so they do not run in parallel with each other.
using System.Diagnostics;
using ConceptErasure.Cli.Notebooks;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

[CollectionDefinition(nameof(NotebookRunnerCollection), DisableParallelization = true)]
public sealed class NotebookRunnerCollection
{
}

[Collection(nameof(NotebookRunnerCollection))]
public class NotebookRunnerTests
{
    private static Notebook Fixture(string folder, params string[] extraCells)
    {
        var b = new NotebookBuilder()
            .Markdown("# Fixture")
            .Code($"#r \"{NotebookTestSupport.LibraryReferenceFrom(folder)}\"\nusing ConceptErasure.Workbook;\nusing ConceptErasure.Figures;\n" +
                  "Console.WriteLine(\"hello\");\nvar n = Run.Choose(full: 100, fast: 3);")
            .Code("Console.Write(\"n=\" + n);\nConsole.Error.WriteLine(\"warn\");\ndisplay(new HtmlTable(\"k\", \"v\").AddRow(\"n\", n));\nn * 2")
            .Code("new ScatterChart(\"points\").Add(\"a\", new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 }, new[] { \"p\", \"q\" }).Highlight(\"q\")")
            .Code("$\"{Environment.GetEnvironmentVariable(\"WORKBOOK_FAST\")} {Run.Fast} {System.IO.Path.GetFileName(Environment.CurrentDirectory)}\"")
            .Code("int unused = 1;");
        foreach (var c in extraCells) b.Code(c);
        return b.Build();
    }

    private static NotebookRunner Runner(bool fast) => new(new NotebookRunOptions(Fast: fast, Progress: TextWriter.Null));

    private static async Task<(NotebookRunResult Result, string Path)> RunFixture(TempFolder tmp, bool fast, params string[] extraCells)
    {
        var path = tmp.File("fixture.ipynb");
        Fixture(tmp.Path, extraCells).Save(path);
        return (await Runner(fast).RunFileAsync(path), path);
    }

    [Fact]
    public async Task Fixture_notebook_produces_the_expected_outputs()
    {
        using var tmp = new TempFolder();
        var (result, path) = await RunFixture(tmp, fast: true);
        Assert.True(result.Succeeded, result.Error);
        NotebookTestSupport.AssertValidNbformat(path);
        var cells = Notebook.Load(path).Cells;

        Assert.Equal(new int?[] { null, 1, 2, 3, 4, 5 }, cells.Select(c => c.ExecutionCount));
        Assert.Equal(new StreamOutput("stdout", "hello\n"), Assert.Single(cells[1].Outputs));

        var outs = cells[2].Outputs;
        Assert.Equal(4, outs.Count);
        Assert.Equal(new StreamOutput("stdout", "n=3"), outs[0]);
        Assert.Equal(new StreamOutput("stderr", "warn\n"), outs[1]);
        var table = Assert.IsType<DisplayDataOutput>(outs[2]).Data;
        Assert.Contains(">n</td>", table[MimeTypes.Html]);
        Assert.Contains("n  3", table[MimeTypes.PlainText]);
        var six = Assert.IsType<ExecuteResultOutput>(outs[3]);
        Assert.Equal((2, "6"), (six.ExecutionCount, six.Data[MimeTypes.PlainText]));

        var chart = Assert.IsType<ExecuteResultOutput>(Assert.Single(cells[3].Outputs)).Data;
        Assert.StartsWith("<svg", chart[MimeTypes.Svg]);
        Assert.Contains("<title>q (2, 4)</title>", chart[MimeTypes.Html]);
        Assert.StartsWith("ScatterChart \"points\"", chart[MimeTypes.PlainText]);

        var env = Assert.IsType<ExecuteResultOutput>(Assert.Single(cells[4].Outputs)).Data[MimeTypes.PlainText];
        Assert.Equal($"1 True {Path.GetFileName(tmp.Path)}", env);
        Assert.Empty(cells[5].Outputs);
    }

    [Fact]
    public async Task Without_fast_the_switch_is_off_and_the_environment_is_restored()
    {
        using var tmp = new TempFolder();
        var before = (Environment.GetEnvironmentVariable(Run.FastVariable), Environment.CurrentDirectory, Console.Out);
        var (result, path) = await RunFixture(tmp, fast: false);
        Assert.True(result.Succeeded, result.Error);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal(new StreamOutput("stdout", "n=100"), cells[2].Outputs[0]);
        Assert.StartsWith("0 False", ((ExecuteResultOutput)cells[4].Outputs[0]).Data[MimeTypes.PlainText]);
        Assert.Equal(before, (Environment.GetEnvironmentVariable(Run.FastVariable), Environment.CurrentDirectory, Console.Out));
    }

    [Fact]
    public async Task Rerunning_an_unchanged_notebook_gives_identical_bytes_without_absolute_paths()
    {
        using var tmp = new TempFolder();
        var (_, path) = await RunFixture(tmp, fast: true);
        var first = File.ReadAllBytes(path);
        await Runner(fast: true).RunFileAsync(path);
        Assert.Equal(first, File.ReadAllBytes(path));
        // Sources hold the relative #r path; the outputs must hold no absolute path at all.
        var outputs = string.Join("\n", System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray()
            .Select(c => c!["outputs"]?.ToJsonString() ?? ""));
        Assert.Contains("ScatterChart", outputs);
        Assert.DoesNotContain(tmp.Path, outputs);
        Assert.DoesNotContain(Path.GetDirectoryName(typeof(Notebook).Assembly.Location)!, outputs);
    }

    [Fact]
    public async Task An_exception_names_the_cell_and_stops_the_run()
    {
        using var tmp = new TempFolder();
        var (result, path) = await RunFixture(tmp, fast: true,
            "Console.WriteLine(\"before\");\nthrow new InvalidOperationException(\"concept not found: \" + n);",
            "Console.WriteLine(\"never\");");
        Assert.False(result.Succeeded);
        Assert.Equal(7, result.FailedCell);
        Assert.Equal("System.InvalidOperationException: concept not found: 3", result.Error);
        NotebookTestSupport.AssertValidNbformat(path);
        var cells = Notebook.Load(path).Cells;
        Assert.Equal(new StreamOutput("stdout", "before\n"), cells[6].Outputs[0]);
        var error = Assert.IsType<ErrorOutput>(cells[6].Outputs[1]);
        Assert.Equal("System.InvalidOperationException", error.EName);
        Assert.Equal("concept not found: 3", error.EValue);
        Assert.StartsWith("Cell 7 failed", error.Traceback[0]);
        Assert.DoesNotContain(error.Traceback, line => line.Contains('/'));
        Assert.Empty(cells[7].Outputs);
        Assert.Null(cells[7].ExecutionCount);
    }

    [Fact]
    public async Task A_compilation_error_reports_the_position_within_the_cell()
    {
        using var tmp = new TempFolder();
        var (result, path) = await RunFixture(tmp, fast: true, "var ok = 1;\nvar bad = undefinedName + ok;");
        Assert.Equal(7, result.FailedCell);
        var error = Assert.IsType<ErrorOutput>(Assert.Single(Notebook.Load(path).Cells[6].Outputs));
        Assert.Equal("CompilationError", error.EName);
        Assert.StartsWith("(2,11): error CS0103", error.EValue);
    }

    [Fact]
    public async Task Polyglot_only_code_is_refused_before_running_and_the_file_is_untouched()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("magic.ipynb");
        Fixture(tmp.Path, "#!time\n1 + 1", "#r \"nuget: Plotly.NET, 5.0.0\"").Save(path);
        var before = File.ReadAllBytes(path);
        var e = await Assert.ThrowsAsync<NotebookSubsetException>(() => Runner(fast: true).RunFileAsync(path));
        Assert.Equal(new[] { 7, 8 }, e.Violations.Select(v => v.Cell));
        Assert.Contains("#!time", e.Message);
        Assert.Contains("nuget:", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_missing_reference_fails_with_the_path_as_written()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("missing.ipynb");
        new NotebookBuilder().Code("#r \"../nowhere/ConceptErasure.dll\"\n1").Build().Save(path);
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Runner(fast: true).RunFileAsync(path));
        Assert.Contains("cell 1: #r \"../nowhere/ConceptErasure.dll\" does not exist", e.Message);
    }

    [Fact]
    public void The_run_command_exits_nonzero_on_failure_and_writes_to_out()
    {
        using var tmp = new TempFolder();
        var good = tmp.File("good.ipynb");
        var bad = tmp.File("bad.ipynb");
        Fixture(tmp.Path).Save(good);
        Fixture(tmp.Path, "throw new Exception(\"erasure failed\");").Save(bad);
        var outDir = Path.Combine(tmp.Path, "out");

        var (okCode, okOutput) = RunCli("notebooks", "run", good, "--fast", "--out", outDir);
        Assert.True(okCode == 0, okOutput);
        Assert.True(File.Exists(Path.Combine(outDir, "good.ipynb")));
        Assert.Null(Notebook.Load(good).Cells[1].ExecutionCount);

        var (badCode, badOutput) = RunCli("notebooks", "run", bad, "--fast");
        Assert.Equal(1, badCode);
        Assert.Contains("cell 7 failed: System.Exception: erasure failed", badOutput);
        Assert.Contains("cell 2/7", badOutput);
    }

    [Fact]
    public async Task A_long_cell_reports_progress_on_the_progress_writer_only()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("slow.ipynb");
        new NotebookBuilder().Code("System.Threading.Thread.Sleep(2000);\n\"done\"").Build().Save(path);   // 40 ticks of margin: the timer must fire even on a loaded machine
        var progress = new StringWriter();
        var runner = new NotebookRunner(new NotebookRunOptions(Progress: TextWriter.Synchronized(progress), ProgressInterval: TimeSpan.FromMilliseconds(50)));
        var result = await runner.RunFileAsync(path);
        Assert.True(result.Succeeded, result.Error);
        Assert.Contains("slow.ipynb: cell 1/1 still running", progress.ToString());
        Assert.Contains("slow.ipynb: cell 1/1 [1] ok in", progress.ToString());
        Assert.DoesNotContain("still running", File.ReadAllText(path));
    }

    [Fact]
    public void The_build_and_check_commands_convert_sources_and_flag_magics()
    {
        using var tmp = new TempFolder();
        var source = tmp.File("study.nb.md");
        File.WriteAllText(source, "# Study\n\n```csharp\n1 + 1\n```\n\n```csharp\n#!time\n2\n```\n");
        var (buildCode, buildOutput) = RunCli("notebooks", "build", source);
        Assert.True(buildCode == 0, buildOutput);
        var notebook = tmp.File("study.ipynb");
        NotebookTestSupport.AssertValidNbformat(notebook);
        Assert.Equal(3, Notebook.Load(notebook).Cells.Count);
        var (checkCode, checkOutput) = RunCli("notebooks", "check", notebook);
        Assert.Equal(1, checkCode);
        Assert.Contains("cell 3, line 1: magic commands ('#!time')", checkOutput);
    }

    private static (int Code, string Output) RunCli(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "workbook.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}
