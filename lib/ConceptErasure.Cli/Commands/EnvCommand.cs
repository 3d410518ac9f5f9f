// `workbook env`: the machine facts a run depends on (libtorch version and build, BLAS, threads, devices).
using System.CommandLine;
using ConceptErasure.Torch;

namespace ConceptErasure.Cli.Commands;

internal static class EnvCommand
{
    public static Command Create()
    {
        var verbose = new Option<bool>("--verbose") { Description = "also print libtorch's full build configuration" };
        var cmd = new Command("env", "Print libtorch's version, BLAS, thread count and devices.");
        cmd.Options.Add(verbose);
        cmd.SetAction(r =>
        {
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, {Environment.OSVersion}");
            Console.WriteLine($"libtorch {torch.version}, {torch.get_num_threads()} intra-op threads");
            var cfg = torch.config;
            foreach (var line in cfg.Split('\n').Where(l => l.Contains("BLAS_INFO") || l.Contains("USE_MKLDNN") || l.Contains("USE_OPENMP") || l.Contains("CUDA")))
                Console.WriteLine("  " + line.Trim());
            Console.WriteLine(torch.cuda.is_available() ? $"CUDA: {torch.cuda.device_count()} device(s)" : "CUDA: not available (CPU only)");
            if (r.GetValue(verbose)) Console.WriteLine(cfg);
            return 0;
        });
        return cmd;
    }
}
