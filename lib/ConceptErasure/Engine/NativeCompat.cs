// NativeCompat.cs — lets TorchSharp's native library load on distributions whose libstdc++ is older than the one
// it was built with (Debian 12: GCC 12).
//
// TorchSharp 0.107's libLibTorchSharp.so was linked by GCC 13 and so asks for the symbol version GLIBCXX_3.4.32,
// for a single symbol (`std::ios_base_library_init`, a reference GCC 13's <iostream> emits and no relocation uses).
// GCC 12's libstdc++ stops at GLIBCXX_3.4.30, and the dynamic loader refuses the whole library. Marking that one
// version requirement weak (VER_FLG_WEAK in its Elf64_Vernaux entry) makes the loader accept the library and only
// note the missing version. The patch is idempotent and is applied only when the system's libstdc++ lacks the
// version; on distributions with GCC ≥ 13 it does nothing.
//
// One source, two users: the build (an MSBuild inline task compiles this file, see lib/TorchSharp.targets) patches
// the copy in every output folder, and the library itself (Engine/TorchRuntime.cs) patches the copy a notebook host
// loads from the NuGet cache before TorchSharp first loads it.
using System;
using System.IO;
using System.Linq;
using System.Text;

namespace ConceptErasure.Engine
{
    public static class NativeCompat
    {
        /// <summary>The symbol version TorchSharp 0.107's native library requires that GCC 12's libstdc++ lacks.</summary>
        public const string RequiredVersion = "GLIBCXX_3.4.32";
        const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>True when the libstdc++ this process uses (or, failing that, the system's) defines the version.
        /// Null when no libstdc++ could be found (then nothing should be patched).</summary>
        public static bool? SystemLibStdCxxProvides(string version)
        {
            var path = LoadedLibStdCxx() ?? new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }
                .FirstOrDefault(File.Exists);
            if (path is null) return null;
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            return IndexOf(File.ReadAllBytes(path), needle) >= 0;
        }

        static string? LoadedLibStdCxx()
        {
            try
            {
                if (!File.Exists("/proc/self/maps")) return null;
                return File.ReadLines("/proc/self/maps")
                    .Select(l => l.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
                    .FirstOrDefault(p => p is not null && p.StartsWith("/") && Path.GetFileName(p).StartsWith("libstdc++.so"));
            }
            catch (IOException) { return null; }
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i <= haystack.Length - needle.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        /// <summary>What <see cref="MakeVersionWeak"/> did.</summary>
        public enum Outcome { Patched, AlreadyWeak, NotRequired, NotElf }

        /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> in the ELF64 file's
        /// .gnu.version_r section, in place (written to a temporary file and renamed over the original).</summary>
        public static Outcome MakeVersionWeak(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F'
                || bytes[4] != 2 /* ELFCLASS64 */ || bytes[5] != 1 /* little-endian */)
                return Outcome.NotElf;
            long shoff = U64(bytes, 0x28);
            int shentsize = U16(bytes, 0x3a), shnum = U16(bytes, 0x3c);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > bytes.Length)
                throw new InvalidDataException($"{path}: ELF section headers lie outside the file");
            bool found = false, changed = false;
            for (var s = 0; s < shnum; s++)
            {
                var sh = (int)(shoff + (long)s * shentsize);
                if (U32(bytes, sh + 4) != ShtGnuVerneed) continue;
                long offset = U64(bytes, sh + 0x18), size = U64(bytes, sh + 0x20);
                var link = (int)U32(bytes, sh + 0x28);
                var strtab = (int)(shoff + (long)link * shentsize);
                long strOffset = U64(bytes, strtab + 0x18);
                if (offset + size > bytes.Length) throw new InvalidDataException($"{path}: .gnu.version_r lies outside the file");
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
                // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                long need = offset;
                while (true)
                {
                    int count = U16(bytes, (int)need + 2);
                    long aux = need + U32(bytes, (int)need + 8);
                    for (var a = 0; a < count; a++)
                    {
                        var name = CString(bytes, (int)(strOffset + U32(bytes, (int)aux + 8)));
                        if (name == version)
                        {
                            found = true;
                            var flags = U16(bytes, (int)aux + 4);
                            if ((flags & VerFlagWeak) == 0)
                            {
                                var patched = (ushort)(flags | VerFlagWeak);
                                bytes[aux + 4] = (byte)patched;
                                bytes[aux + 5] = (byte)(patched >> 8);
                                changed = true;
                            }
                        }
                        var nextAux = U32(bytes, (int)aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    var next = U32(bytes, (int)need + 12);
                    if (next == 0) break;
                    need += next;
                }
            }
            if (!found) return Outcome.NotRequired;
            if (!changed) return Outcome.AlreadyWeak;
            var temp = path + ".patching";
            File.WriteAllBytes(temp, bytes);
#if NET7_0_OR_GREATER
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, File.GetUnixFileMode(path));   // keep what the package shipped
            File.Move(temp, path, overwrite: true);                    // atomic: a reader sees the old or the new file
#else
            File.Delete(path);                                         // the MSBuild task (netstandard2.0): build time only
            File.Move(temp, path);
#endif
            return Outcome.Patched;
        }

        /// <summary>Patches the file when this system needs it (Linux, a libstdc++ without the version).</summary>
        public static Outcome? PatchIfNeeded(string path)
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || !File.Exists(path)) return null;
            if (SystemLibStdCxxProvides(RequiredVersion) != false) return null;
            return MakeVersionWeak(path, RequiredVersion);
        }

        static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
        static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static long U64(byte[] b, int o) => (long)(U32(b, o) | (ulong)U32(b, o + 4) << 32);
        static string CString(byte[] b, int o)
        {
            var end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, o, end - o);
        }
    }

#if !CONCEPT_ERASURE_LIBRARY
    /// <summary>The MSBuild face of the patch: applied to each native file the build copies.</summary>
    public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public override bool Execute()
        {
            foreach (var f in Files)
            {
                var outcome = NativeCompat.PatchIfNeeded(f.ItemSpec);
                if (outcome == NativeCompat.Outcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"{f.ItemSpec}: marked {NativeCompat.RequiredVersion} weak (this system's libstdc++ lacks it; see environment.md)");
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
