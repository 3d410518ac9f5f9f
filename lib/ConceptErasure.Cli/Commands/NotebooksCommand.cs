// `workbook notebooks`: author and execute the workbook's C# notebooks.
//   new <path.ipynb> [--title T]                 starter notebook with Polyglot metadata and the library's #r "nuget: …"
//   build <source.nb.md…> [--out DIR]            convert Markdown sources (```csharp fences = code cells) to .ipynb
//   run <notebook.ipynb…> [--fast] [--out DIR] [--cell-timeout S]
//                                                execute each on the .NET Interactive engine (one kernel process per
//                                                notebook) and store the outputs; exit 1 if a cell fails, 130 when
//                                                stopped by Ctrl-C or SIGTERM (what ran is written first)
using System.CommandLine;
using ConceptErasure.Cli.Notebooks;
using ConceptErasure.Workbook;

namespace ConceptErasure.Cli.Commands;

internal static class NotebooksCommand
{
    public static Command Create()
    {
        var cmd = new Command("notebooks", "Author and run the C# notebooks (Jupyter .ipynb that Polyglot Notebooks opens).");
        cmd.Subcommands.Add(CreateNew());
        cmd.Subcommands.Add(CreateBuild());
        cmd.Subcommands.Add(CreateRun());
        return cmd;
    }

    private static Command CreateNew()
    {
        var path = new Argument<string>("path") { Description = "The .ipynb file to create." };
        var title = new Option<string?>("--title") { Description = "Heading of the first cell (default: from the file name)." };
        var cmd = new Command("new", $"Create a starter notebook: title, {LibraryPackage.Directive}, an example chart.") { path, title };
        cmd.SetAction(parse =>
        {
            var target = Path.GetFullPath(parse.GetValue(path)!);
            if (File.Exists(target))
            {
                Console.Error.WriteLine($"error: {parse.GetValue(path)} already exists; choose another name or delete it first.");
                return 2;
            }
            var heading = parse.GetValue(title) ?? Path.GetFileNameWithoutExtension(target).Replace('-', ' ').Replace('_', ' ');
            NotebookTemplate.Create(heading).Save(target);
            Console.WriteLine($"created {parse.GetValue(path)} ({LibraryPackage.Directive})");
            return 0;
        });
        return cmd;
    }

    private static Command CreateBuild()
    {
        var sources = new Argument<string[]>("sources") { Description = "Markdown sources (*.nb.md).", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string?>("--out") { Description = "Folder for the .ipynb files (default: beside each source)." };
        var cmd = new Command("build", "Convert Markdown notebook sources into .ipynb (```csharp fences become code cells; outputs start empty).")
        {
            sources, outDir,
        };
        cmd.SetAction(parse =>
        {
            int rc = 0;
            foreach (var source in parse.GetValue(sources)!)
            {
                try
                {
                    var nb = NotebookSource.Load(source);
                    var target = NotebookSource.NotebookPathFor(source);
                    if (parse.GetValue(outDir) is { } dir) target = Path.Combine(dir, Path.GetFileName(target));
                    nb.Save(target);
                    Console.WriteLine($"{source} -> {target} ({nb.Cells.Count} cells)");
                }
                catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    rc = 1;
                }
            }
            return rc;
        });
        return cmd;
    }

    private static Command CreateRun()
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebook files (.ipynb) to execute, in order.", Arity = ArgumentArity.OneOrMore };
        var fast = new Option<bool>("--fast") { Description = "Set WORKBOOK_FAST=1 (Run.Fast) so notebooks use small iteration counts." };
        var outDir = new Option<string?>("--out")
        {
            Description = "Write executed notebooks into this folder instead of in place (the kernel still runs in each source's folder).",
        };
        var cellTimeout = new Option<double>("--cell-timeout")
        {
            Description = "Seconds one cell may run before its notebook fails (default 1800; 0: no limit).",
            DefaultValueFactory = _ => NotebookRunOptions.DefaultCellTimeout.TotalSeconds,
        };
        var cmd = new Command("run", "Execute notebooks on the .NET Interactive engine and store their outputs; exits 1 if a cell fails.")
        {
            paths, fast, outDir, cellTimeout,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var seconds = parse.GetValue(cellTimeout);
            if (seconds < 0 || double.IsNaN(seconds))
            {
                Console.Error.WriteLine("error: --cell-timeout must be a number of seconds ≥ 0.");
                return 2;
            }
            var runner = new NotebookRunner(new NotebookRunOptions(Fast: parse.GetValue(fast), CellTimeout: TimeSpan.FromSeconds(seconds)) { NoCellTimeout = seconds == 0 });
            int rc = 0;
            foreach (var path in parse.GetValue(paths)!)
            {
                var target = parse.GetValue(outDir) is { } dir ? Path.Combine(dir, Path.GetFileName(path)) : path;
                try
                {
                    Console.Error.WriteLine($"{path}: running{(parse.GetValue(fast) ? " (fast)" : "")}");
                    var result = await runner.RunFileAsync(path, target, ct);
                    if (result.Succeeded)
                    {
                        Console.WriteLine($"{path}: ok, {result.CodeCellsRun} code cells -> {target}");
                        continue;
                    }
                    Console.Error.WriteLine($"{path}: cell {result.FailedCell} failed: {result.Error} (outputs written to {target})");
                    rc = 1;
                    if (result.Interrupted)
                    {
                        Console.Error.WriteLine("stopped: the remaining notebooks were not run.");
                        return 130;
                    }
                }
                catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"error: {path}: {e.Message}");
                    rc = 1;
                }
            }
            return rc;
        });
        return cmd;
    }
}
