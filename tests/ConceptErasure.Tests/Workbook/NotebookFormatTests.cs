// The notebook model: generated notebooks pass the official nbformat validator, carry the Polyglot
// metadata, serialize exactly like Jupyter (Python's json.dumps layout), round-trip every output kind,
// and the authoring paths (builder, Markdown source) produce the intended cells.
using System.Text.Json.Nodes;
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

public class NotebookFormatTests
{
    private static Notebook Sample()
    {
        var nb = new NotebookBuilder()
            .Markdown("# Title\n\nSome *prose* with ünïcode and \"quotes\".")
            .Code("var x = 1;\nx + 1")
            .Code("Console.WriteLine(\"hi\");")
            .Build();
        var code = nb.Cells[1];
        code.ExecutionCount = 1;
        var bundle = new MimeBundle();
        bundle[MimeTypes.PlainText] = "2";
        bundle["image/svg+xml"] = "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        bundle[MimeTypes.Png] = "iVBORw0KGgo=";
        bundle[MimeTypes.PlotlyJson] = "{\"data\":[{\"type\":\"scatter\",\"x\":[1,2.5,1E-05,null],\"y\":[0.1,2.0,3e20,-4]}],\"layout\":{\"width\":640}}";
        code.Outputs.Add(new StreamOutput("stdout", "line 1\nline 2\n"));
        code.Outputs.Add(new DisplayDataOutput(bundle));
        code.Outputs.Add(new ExecuteResultOutput(1, bundle));
        nb.Cells[2].ExecutionCount = 2;
        nb.Cells[2].Outputs.Add(new ErrorOutput("System.Exception", "boom", new[] { "Cell 3 failed", "   at cell 3" }));
        return nb;
    }

    [Fact]
    public void Generated_notebook_passes_the_official_validator()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("sample.ipynb");
        Sample().Save(path);
        NotebookTestSupport.AssertValidNbformat(path);
    }

    [Fact]
    public void Serialization_matches_jupyters_own_json_layout()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("layout.ipynb");
        Sample().Save(path);
        if (!NotebookTestSupport.HasPython) return;   // the reference is Python's json module
        // Jupyter writes json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n".
        var (code, output) = NotebookTestSupport.RunPython("-c",
            "import json,sys; t=open(sys.argv[1],encoding='utf-8').read(); " +
            "print('same' if json.dumps(json.loads(t), sort_keys=True, indent=1, ensure_ascii=False) + '\\n' == t else 'different')", path);
        Assert.Equal(0, code);
        Assert.Equal("same", output.Trim());
    }

    [Fact]
    public void Polyglot_metadata_is_present_on_the_notebook_and_code_cells()
    {
        var root = JsonNode.Parse(Sample().ToJson())!;
        Assert.Equal(".net-csharp", (string?)root["metadata"]!["kernelspec"]!["name"]);
        Assert.Equal(".NET (C#)", (string?)root["metadata"]!["kernelspec"]!["display_name"]);
        Assert.Equal("C#", (string?)root["metadata"]!["kernelspec"]!["language"]);
        Assert.Equal("text/x-csharp", (string?)root["metadata"]!["language_info"]!["mimetype"]);
        Assert.Equal("csharp", (string?)root["metadata"]!["language_info"]!["pygments_lexer"]);
        Assert.Equal("csharp", (string?)root["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]);
        Assert.Equal("csharp", (string?)root["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["items"]![0]!["name"]);
        Assert.Equal(4, (int)root["nbformat"]!);
        Assert.Equal(5, (int)root["nbformat_minor"]!);
        var cells = root["cells"]!.AsArray();
        foreach (var cell in cells) Assert.Matches("^[A-Za-z0-9_-]{1,64}$", (string)cell!["id"]!);
        var code = cells[1]!;
        Assert.Equal("csharp", (string?)code["metadata"]!["polyglot_notebook"]!["kernelName"]);
        Assert.Equal("csharp", (string?)code["metadata"]!["dotnet_interactive"]!["language"]);
        Assert.Equal(new[] { "var x = 1;\n", "x + 1" }, code["source"]!.AsArray().Select(n => (string)n!).ToArray());
    }

    [Fact]
    public void Parse_then_write_reproduces_the_text_for_every_output_kind()
    {
        var text = Sample().ToJson();
        var again = Notebook.Parse(text);
        Assert.Equal(text, again.ToJson());
        var outputs = again.Cells[1].Outputs;
        Assert.IsType<StreamOutput>(outputs[0]);
        Assert.Equal("line 1\nline 2\n", ((StreamOutput)outputs[0]).Text);
        Assert.Equal("iVBORw0KGgo=", ((DisplayDataOutput)outputs[1]).Data[MimeTypes.Png]);
        Assert.Equal(1, ((ExecuteResultOutput)outputs[2]).ExecutionCount);
        var error = (ErrorOutput)again.Cells[2].Outputs[0];
        Assert.Equal(("System.Exception", "boom"), (error.EName, error.EValue));
        Assert.Equal(2, error.Traceback.Count);
    }

    [Fact]
    public void Cell_ids_are_derived_from_content_and_unique()
    {
        var a = new NotebookBuilder().Code("1").Code("1").Markdown("1").Build();
        var b = new NotebookBuilder().Code("1").Code("1").Markdown("1").Build();
        Assert.Equal(a.Cells.Select(c => c.Id), b.Cells.Select(c => c.Id));
        Assert.Equal(3, a.Cells.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void Markdown_source_turns_csharp_fences_into_code_cells()
    {
        var source = string.Join("\n",
            "# Title", "", "Intro.", "",
            "```csharp", "var x = 1;", "x", "```", "",
            "An example that stays prose:", "```text", "not code", "```",
            NotebookSource.CellBreak,
            "Second prose cell.", "",
            "```cs", "Console.WriteLine(2);", "```");
        var nb = NotebookSource.Parse(source);
        Assert.Equal(new[] { CellKind.Markdown, CellKind.Code, CellKind.Markdown, CellKind.Markdown, CellKind.Code }, nb.Cells.Select(c => c.Kind));
        Assert.Equal("# Title\n\nIntro.", nb.Cells[0].Source);
        Assert.Equal("var x = 1;\nx", nb.Cells[1].Source);
        Assert.Contains("```text\nnot code\n```", nb.Cells[2].Source);
        Assert.Equal("Second prose cell.", nb.Cells[3].Source);
        Assert.Equal("csharp", (string?)nb.Metadata["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]);
    }

    [Fact]
    public void Markdown_source_with_an_unclosed_fence_is_rejected_with_its_line()
    {
        var e = Assert.Throws<FormatException>(() => NotebookSource.Parse("text\n```csharp\nvar x = 1;"));
        Assert.Contains("Line 2", e.Message);
    }

    [Fact]
    public void Template_notebook_is_valid_and_references_the_library_package()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("starter.ipynb");
        NotebookTemplate.Create("Starter").Save(path);
        NotebookTestSupport.AssertValidNbformat(path);
        var firstCode = Notebook.Load(path).Cells.First(c => c.Kind == CellKind.Code);
        Assert.StartsWith("#r \"nuget: ConceptErasure, ", firstCode.Source);
        Assert.Equal(LibraryPackage.Directive, firstCode.Source.Split('\n')[0]);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$", LibraryPackage.Version);
    }

    [Fact]
    public void Committed_notebooks_reference_the_library_package_of_this_build()
    {
        // The notebooks' first cell names the package version this build packs into .packages/.
        var folder = Path.Combine(RepositoryRoot(), "notebooks");
        var notebooks = Directory.GetFiles(folder, "*.ipynb");
        Assert.NotEmpty(notebooks);
        foreach (var path in notebooks)
        {
            var first = Notebook.Load(path).Cells.First(c => c.Kind == CellKind.Code).Source.Split('\n')[0];
            Assert.True(first == LibraryPackage.Directive, $"{Path.GetFileName(path)} starts with {first}, not {LibraryPackage.Directive}");
        }
        Assert.True(File.Exists(Path.Combine(RepositoryRoot(), ".packages", $"{LibraryPackage.Id}.{LibraryPackage.Version}.nupkg")),
            "building the library packs it into .packages/");
    }

    [Fact]
    public void Floats_are_written_as_python_writes_them()
    {
        // json.dumps writes repr(float): shortest round-trip digits, exponent outside [1e-4, 1e16).
        var values = new[] { 0.1, 1e-05, 2.0, 1e16, 1e15, 123.456, -0.0, 1.5e-07, 5e-324, 1.7976931348623157e308, 0.30000000000000004, 1e-4, -2.5e22 };
        var expected = new[] { "0.1", "1e-05", "2.0", "1e+16", "1000000000000000.0", "123.456", "-0.0", "1.5e-07", "5e-324", "1.7976931348623157e+308", "0.30000000000000004", "0.0001", "-2.5e+22" };
        Assert.Equal(expected, values.Select(JupyterJson.PythonFloat));
        // Integer literals stay integers, float literals stay floats.
        Assert.Equal("[\n 2,\n 2.0,\n 1e-05\n]\n", JupyterJson.Write(JsonNode.Parse("[2, 2.0, 1E-05]")));
        if (!NotebookTestSupport.HasPython) return;   // the cross-check against Python's own repr
        var (code, output) = NotebookTestSupport.RunPython(new[] { "-c", "import json,sys; print(json.dumps([float(v) for v in sys.argv[1:]]))" }
            .Concat(values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        Assert.Equal(0, code);
        Assert.Equal("[" + string.Join(", ", expected) + "]", output.Trim());
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NuGet.Config")) && Directory.Exists(Path.Combine(dir.FullName, "notebooks"))) return dir.FullName;
        throw new DirectoryNotFoundException("The tests run outside the repository.");
    }

    [Fact]
    public void Save_is_atomic_and_leaves_no_temporary_file()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("atomic.ipynb");
        File.WriteAllText(path, "old");
        Sample().Save(path);
        Assert.StartsWith("{\n \"cells\"", File.ReadAllText(path));
        Assert.Equal(new[] { "atomic.ipynb" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }
}
