// The `workbook` command line. Each subcommand lives in Commands/<Name>Command.cs and is registered here.
using System.CommandLine;
using ConceptErasure.Cli.Commands;

var root = new RootCommand("Concept-erasure workbook: a miniature Stable Diffusion on libtorch, erasure methods and their evaluation.");
root.Subcommands.Add(EraseCommand.Create());
root.Subcommands.Add(TableCommand.Create());
root.Subcommands.Add(EnvCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(SmokeCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(NotebooksCommand.Create());
root.Subcommands.Add(DataCommand.Create());
TrainCommand.RejectUnknownOptions(root);
return await root.Parse(args).InvokeAsync();
