// `workbook notebooks`: author, check and execute the workbook's C# notebooks.
//   new <path.ipynb> [--title T] [--dll PATH]   starter notebook with Polyglot metadata and a #r to the library
//   build <source.nb.md…> [--out DIR]           convert Markdown sources (```csharp fences = code cells) to .ipynb
//   check <notebook.ipynb…>                     report anything outside the common subset, run nothing
//   run <notebook.ipynb…> [--fast] [--out DIR]  execute headlessly and store outputs (exit 1 if any cell fails)
using System.CommandLine;
using ConceptErasure.Cli.Notebooks;
using ConceptErasure.Workbook;

namespace ConceptErasure.Cli.Commands;

internal static class NotebooksCommand
{
    public static Command Create()
    {
        var cmd = new Command("notebooks", "Author, check and run the C# notebooks (Jupyter .ipynb that Polyglot Notebooks opens).");
        cmd.Subcommands.Add(CreateNew());
        cmd.Subcommands.Add(CreateBuild());
        cmd.Subcommands.Add(CreateCheck());
        cmd.Subcommands.Add(CreateRun());
        return cmd;
    }

    private static Command CreateNew()
    {
        var path = new Argument<string>("path") { Description = "The .ipynb file to create." };
        var title = new Option<string?>("--title") { Description = "Heading of the first cell (default: from the file name)." };
        var dll = new Option<string?>("--dll")
        {
            Description = "ConceptErasure.dll to reference (default: the one this command uses); written relative to the notebook.",
        };
        var cmd = new Command("new", "Create a starter notebook: title, a #r to the library, an example chart.") { path, title, dll };
        cmd.SetAction(parse =>
        {
            var target = Path.GetFullPath(parse.GetValue(path)!);
            if (File.Exists(target))
            {
                Console.Error.WriteLine($"error: {parse.GetValue(path)} already exists; choose another name or delete it first.");
                return 2;
            }
            var library = Path.GetFullPath(parse.GetValue(dll) ?? typeof(Notebook).Assembly.Location);
            var relative = Path.GetRelativePath(Path.GetDirectoryName(target)!, library).Replace('\\', '/');
            var heading = parse.GetValue(title) ?? Path.GetFileNameWithoutExtension(target).Replace('-', ' ').Replace('_', ' ');
            NotebookTemplate.Create(heading, relative).Save(target);
            Console.WriteLine($"created {parse.GetValue(path)} (#r \"{relative}\")");
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
                    foreach (var v in CommonSubset.Check(nb)) Console.Error.WriteLine($"warning: {source}: {v}");
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

    private static Command CreateCheck()
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebook files (.ipynb).", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("check", "Report code that is outside the common subset (magics, NuGet references, …) without running anything.") { paths };
        cmd.SetAction(parse =>
        {
            int rc = 0;
            foreach (var path in parse.GetValue(paths)!)
            {
                try
                {
                    var violations = CommonSubset.Check(Notebook.Load(path));
                    foreach (var v in violations) Console.Error.WriteLine($"{path}: {v}");
                    if (violations.Count > 0) rc = 1;
                    else Console.WriteLine($"{path}: ok");
                }
                catch (Exception e) when (e is IOException or FormatException)
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
            Description = "Write executed notebooks into this folder instead of in place (#r paths still resolve from the source folder).",
        };
        var cmd = new Command("run", "Execute notebooks headlessly and store their outputs; exits 1 if any cell fails.") { paths, fast, outDir };
        cmd.SetAction(async (parse, ct) =>
        {
            var runner = new NotebookRunner(new NotebookRunOptions(Fast: parse.GetValue(fast)));
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
                    }
                    else
                    {
                        Console.Error.WriteLine($"{path}: cell {result.FailedCell} failed: {result.Error} (outputs written to {target})");
                        rc = 1;
                    }
                }
                catch (Exception e) when (e is IOException or FormatException or NotebookSubsetException)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    rc = 1;
                }
            }
            return rc;
        });
        return cmd;
    }
}
