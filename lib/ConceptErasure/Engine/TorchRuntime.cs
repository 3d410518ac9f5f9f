// TorchRuntime.cs — process-wide settings the tensor engine needs before its first tensor, applied once when the
// library is loaded (a module initializer), in every host: the CLI, the tests, a notebook kernel.
//
// 1. glibc's allocator serves every block above 128 KiB with a fresh mmap and unmaps it on free, so a network that
//    allocates and frees the same activations step after step spends its time in page faults; with two OpenMP
//    threads (whose allocations land in different arenas) measured here: 16 images × 50 DDIM steps 15.5 s → 3.3 s.
//    Freed memory is kept in the heap instead (as jemalloc or tcmalloc would), unless the user tunes malloc himself
//    (GLIBC_TUNABLES set).
// 2. Where the system's libstdc++ is older than GCC 13's, TorchSharp's native library needs the weak-version fix of
//    NativeCompat.cs. The build applies it to every output folder; a notebook host instead loads TorchSharp from the
//    NuGet cache and copies its natives next to it on first use (TorchSharp#169), so the copies there are fixed here,
//    before TorchSharp looks for them.
// 3. In a notebook kernel TorchSharp's loader first asks for libtorch by name, which the system's library search
//    answers with whatever libtorch is installed (Debian's libtorch-dev 1.13, seen here) and then fails on a missing
//    symbol. So there libtorch and LibTorchSharp are loaded first by full path from the NuGet packages the library was
//    built against (the version in the assembly's metadata); the loader's by-name requests then find them by soname.
// 4. The CPU backend is then loaded through TorchSharp's own loader (see Initialize).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConceptErasure.Engine;

public static class TorchRuntime
{
    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);

    /// <summary>The engine's versions, for manifests: results made with another engine are not mixed with these.</summary>
    public static SortedDictionary<string, string> Versions => new(StringComparer.Ordinal)
    {
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "?",
        ["libtorch"] = TorchSharp.torch.__version__,
    };

    /// <summary>True when glibc was told to keep freed memory (false: not Linux/glibc, or GLIBC_TUNABLES set).</summary>
    public static bool KeepsFreedMemory { get; private set; }

    /// <summary>The TorchSharp native-library copies this process fixed (normally none: the build fixed them).</summary>
    public static IReadOnlyList<string> PatchedNatives { get; private set; } = [];

    [ModuleInitializer]
    internal static void Initialize()
    {
        KeepFreedMemory();
        PatchNatives();
        PreloadPackagedNatives();
        // 3. load libtorch now, through TorchSharp's own loader: in a notebook kernel nothing else tells the runtime where
        //    the natives are, and the first TorchSharp call may be a module constructor that does not run that loader.
        //    A failure is left to TorchSharp's first real use, which explains it.
        try { TorchSharp.torch.TryInitializeDeviceType(TorchSharp.DeviceType.CPU); }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or InvalidOperationException) { }
    }

    static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is not null) return;
        try
        {
            KeepsFreedMemory = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1    // the largest value glibc accepts on 64-bit
                               & mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }   // not glibc (e.g. musl)
    }

    static void PatchNatives()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            if (NativeCompat.SystemLibStdCxxProvides(NativeCompat.RequiredVersion) != false) return;
            var patched = new List<string>();
            foreach (var path in Candidates().Distinct())
                if (NativeCompat.PatchIfNeeded(path) == NativeCompat.Outcome.Patched) patched.Add(path);
            PatchedNatives = patched;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // a read-only package cache: TorchSharp's own error will then say what failed to load
            Console.Error.WriteLine($"warning: could not prepare TorchSharp's native library ({e.Message}); see environment.md");
        }
    }

    /// <summary>The libtorch folders this process loaded by full path (empty outside a notebook kernel).</summary>
    public static IReadOnlyList<string> PreloadedFrom { get; private set; } = [];

    static void PreloadPackagedNatives()
    {
        if (!OperatingSystem.IsLinux()) return;
        var assembly = typeof(TorchSharp.torch).Assembly.Location;
        if (string.IsNullOrEmpty(assembly)) return;
        // only where TorchSharp.dll lives in the NuGet cache: …/packages/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
        var home = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(assembly)!, "..", ".."));
        if (Path.GetFileName(Path.GetDirectoryName(home)) != "torchsharp") return;
        var packages = Path.GetDirectoryName(Path.GetDirectoryName(home))!;
        var chosen = typeof(TorchRuntime).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LibTorchPackage")?.Value?.Split('/');
        if (chosen is not { Length: 2 }) return;
        var native = Path.Combine(packages, chosen[0].ToLowerInvariant(), chosen[1], "runtimes", "linux-x64", "native");
        var loaded = new List<string>();
        try
        {
            foreach (var lib in new[] { "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so" })
                if (File.Exists(Path.Combine(native, lib))) { NativeLibrary.Load(Path.Combine(native, lib)); loaded.Add(native); }
            var sharp = Path.Combine(home, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            if (loaded.Count > 0 && File.Exists(sharp)) NativeLibrary.Load(sharp);
        }
        catch (DllNotFoundException e)
        {
            Console.Error.WriteLine($"warning: could not load libtorch from {native} ({e.Message.Split('\n')[0]}); see environment.md");
        }
        PreloadedFrom = loaded.Distinct().ToList();
    }

    /// <summary>Where TorchSharp may load libLibTorchSharp.so from: beside its assembly (an output folder), and, when the
    /// assembly lives in the NuGet cache (notebook hosts), the package's native folder and the folder TorchSharp
    /// consolidates the natives into.</summary>
    static IEnumerable<string> Candidates()
    {
        const string lib = "libLibTorchSharp.so";
        var assembly = typeof(TorchSharp.torch).Assembly.Location;
        if (string.IsNullOrEmpty(assembly)) yield break;
        var dir = Path.GetDirectoryName(assembly)!;
        yield return Path.Combine(dir, lib);
        yield return Path.Combine(dir, "runtimes", "linux-x64", "native", lib);
        yield return Path.Combine(dir, "cpu", lib);
        // .../packages/torchsharp/<version>/lib/<tfm>/TorchSharp.dll → .../packages/torchsharp/<version>/runtimes/…
        var home = Path.GetFullPath(Path.Combine(dir, "..", ".."));
        if (Path.GetFileName(Path.GetDirectoryName(home)) == "torchsharp")
            yield return Path.Combine(home, "runtimes", "linux-x64", "native", lib);
    }
}
