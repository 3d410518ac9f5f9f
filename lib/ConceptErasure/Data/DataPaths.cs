// Where the data layer finds things: the download cache outside git ($CONCEPT_ERASURE_CACHE, else
// $XDG_CACHE_HOME/concept-erasure, else ~/.cache/concept-erasure, per the XDG Base Directory Specification) and the
// repository's committed data/ folder ($CONCEPT_ERASURE_DATA, else found by walking up from the running assembly and
// from the current directory). No absolute path is hard-coded.
namespace ConceptErasure.Data;

public static class DataPaths
{
    /// <summary>Environment variable naming the cache folder (relative values are taken from the current directory).</summary>
    public const string CacheVariable = "CONCEPT_ERASURE_CACHE";

    /// <summary>Environment variable naming the repository's data/ folder.</summary>
    public const string DataVariable = "CONCEPT_ERASURE_DATA";

    /// <summary>A file that marks a folder as the workbook's data/ folder.</summary>
    internal static readonly string DataMarker = Path.Combine("emoji", "emoji-datasource.lock.json");

    /// <summary>The cache folder for downloads and derived indexes (not created here).</summary>
    public static string CacheRoot()
        => CacheRoot(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static string CacheRoot(Func<string, string?> env, string? home)
    {
        string? own = env(CacheVariable);
        if (!string.IsNullOrWhiteSpace(own)) return Path.GetFullPath(own);
        string? xdg = env("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) // the XDG spec says relative values are invalid
            return Path.Combine(xdg, "concept-erasure");
        if (string.IsNullOrWhiteSpace(home))
            throw new InvalidOperationException($"Cannot place the data cache: neither {CacheVariable}, XDG_CACHE_HOME nor a home folder is set. Set {CacheVariable} to a writable folder.");
        return Path.Combine(home, ".cache", "concept-erasure");
    }

    /// <summary>The repository's data/ folder.</summary>
    public static string DataDir()
    {
        string? own = Environment.GetEnvironmentVariable(DataVariable);
        if (!string.IsNullOrWhiteSpace(own))
        {
            string full = Path.GetFullPath(own);
            if (!File.Exists(Path.Combine(full, DataMarker)))
                throw new DirectoryNotFoundException($"{DataVariable}={own} is not the workbook's data folder (it has no {DataMarker}).");
            return full;
        }
        return FindDataDir([AppContext.BaseDirectory, Environment.CurrentDirectory])
            ?? throw new DirectoryNotFoundException(
                $"Cannot find the workbook's data/ folder (with {DataMarker}) above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}. " +
                $"Run from inside the repository or set {DataVariable} to its data/ folder.");
    }

    internal static string? FindDataDir(IEnumerable<string> starts)
    {
        foreach (string start in starts)
        {
            for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data");
                if (File.Exists(Path.Combine(candidate, DataMarker))) return candidate;
            }
        }
        return null;
    }

    /// <summary>data/emoji/ of the repository.</summary>
    public static string EmojiDataDir() => Path.Combine(DataDir(), "emoji");

    /// <summary>data/concept-sets/ of the repository.</summary>
    public static string ConceptSetDir() => Path.Combine(DataDir(), "concept-sets");
}
