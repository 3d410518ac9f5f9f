// The Debian 12 fix for TorchSharp's native library (Engine/NativeCompat.cs): the version requirement GCC 13 adds is
// marked weak in a copy of the packaged library, idempotently, and the build applied it to the copy this test run loads.
using ConceptErasure.Engine;

namespace ConceptErasure.Tests.Engine;

public class NativeCompatTests
{
    static string PackagedLibrary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void MarksTheGccThirteenRequirementWeakOnceAndOnlyThat()
    {
        if (!OperatingSystem.IsLinux()) return;   // the library is an ELF file only on Linux
        var source = PackagedLibrary();
        Assert.True(File.Exists(source), $"TorchSharp's native library not found at {source}");
        var dir = Directory.CreateTempSubdirectory("ce-elf");
        try
        {
            var copy = Path.Combine(dir.FullName, "libLibTorchSharp.so");
            File.Copy(source, copy);
            var original = File.ReadAllBytes(copy);
            var first = NativeCompat.MakeVersionWeak(copy, NativeCompat.RequiredVersion);
            Assert.True(first is NativeCompat.Outcome.Patched or NativeCompat.Outcome.AlreadyWeak);
            Assert.Equal(NativeCompat.Outcome.AlreadyWeak, NativeCompat.MakeVersionWeak(copy, NativeCompat.RequiredVersion));
            var patched = File.ReadAllBytes(copy);
            Assert.Equal(original.Length, patched.Length);
            var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
            Assert.True(changed.Count <= 1, $"{changed.Count} bytes changed");   // one flags byte (none if the package already had it)
            Assert.Equal(NativeCompat.Outcome.NotRequired, NativeCompat.MakeVersionWeak(copy, "GLIBCXX_9.9.99"));
            File.WriteAllBytes(copy, [1, 2, 3]);
            Assert.Equal(NativeCompat.Outcome.NotElf, NativeCompat.MakeVersionWeak(copy, NativeCompat.RequiredVersion));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void TheLoadedCopyIsPatchedWhereTheSystemNeedsIt()
    {
        if (!OperatingSystem.IsLinux() || NativeCompat.SystemLibStdCxxProvides(NativeCompat.RequiredVersion) != false) return;
        var loaded = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(loaded), loaded);
        Assert.Equal(NativeCompat.Outcome.AlreadyWeak, NativeCompat.MakeVersionWeak(loaded, NativeCompat.RequiredVersion));
    }
}
