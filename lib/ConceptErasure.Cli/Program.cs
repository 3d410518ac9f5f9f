// The `workbook` command line. Each subcommand lives in Commands/<Name>Command.cs and is registered here.
using System.CommandLine;
using ConceptErasure.Cli;
using ConceptErasure.Cli.Commands;

var root = new RootCommand("Concept-erasure workbook: a miniature Stable Diffusion on TorchSharp, erasure methods and their evaluation. " + ExitCode.Help);
root.Subcommands.Add(EraseCommand.Create());
root.Subcommands.Add(AuditCommand.Create());
root.Subcommands.Add(SpectrumCommand.Create());
root.Subcommands.Add(HarmfulCommand.Create());
root.Subcommands.Add(StyleCommand.Create());
root.Subcommands.Add(TableCommand.Create());
root.Subcommands.Add(EnvCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(SmokeCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(NotebooksCommand.Create());
root.Subcommands.Add(DataCommand.Create());
CommandSupport.RejectUnknownOptions(root);
// Commands map their own failures (CommandSupport.Guard); anything that escapes still becomes one line and a code.
try { return await root.Parse(args).InvokeAsync(); }
catch (Exception e) { return CommandSupport.Report(e); }
