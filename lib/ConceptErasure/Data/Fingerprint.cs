// Fingerprint.cs — which weights produced a result: the SHA-256 (first 16 hex digits) of every safetensors file in
// a model folder. Tables and quality reports record them, so a number can always be traced to the exact foundation
// model and judge that made it, even after the shipped weights move on.
using System.Security.Cryptography;

namespace ConceptErasure.Data;

public static class Fingerprint
{
    /// <summary>file name → first 16 hex digits of its SHA-256, for every *.safetensors in the folder (sorted).</summary>
    public static SortedDictionary<string, string> Of(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no model folder {folder}");
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*.safetensors"))
        {
            using var stream = File.OpenRead(file);
            result[Path.GetFileName(file)] = Convert.ToHexString(SHA256.HashData(stream))[..16].ToLowerInvariant();
        }
        if (result.Count == 0) throw new InvalidDataException($"{folder} holds no .safetensors file to fingerprint");
        return result;
    }
}
