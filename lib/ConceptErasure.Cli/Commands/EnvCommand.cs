// `workbook env`: the machine facts a run depends on (TorchSharp and libtorch versions, threads, devices, the native fix).
using System.CommandLine;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class EnvCommand
{
    public static Command Create()
    {
        var cmd = new Command("env", "Print the TorchSharp and libtorch versions, thread count, devices and the native-library fix.");
        cmd.SetAction(r =>
        {
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, {torch.get_num_threads()} intra-op threads");
            var provides = NativeCompat.SystemLibStdCxxProvides(NativeCompat.RequiredVersion);
            if (OperatingSystem.IsLinux())
                Console.WriteLine(provides == false
                    ? $"libstdc++ lacks {NativeCompat.RequiredVersion}: TorchSharp's native library is loaded through the build's weak-version patch (environment.md)"
                    : $"libstdc++ provides {NativeCompat.RequiredVersion}: no native patch needed");
            Console.WriteLine(torch.cuda.is_available() ? $"CUDA: {torch.cuda.device_count()} device(s)" : "CUDA: not available (CPU only)");
            return 0;
        });
        return cmd;
    }
}
