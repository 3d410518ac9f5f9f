// Acquisition of the emoji data: the npm package emoji-datasource (iamcal/emoji-data, MIT), whose tarball holds
// emoji.json and the 32 px sprite sheets of all four vendors (img/<vendor>/sheets/32.png). The version and the
// tarball's sha512 integrity are pinned in the committed data/emoji/emoji-datasource.lock.json. The tarball is
// fetched with npm's own client (`npm pack`), verified against the pin, kept in the cache and extracted
// (System.Formats.Tar over GZipStream) into the cache folder outside git; later runs work offline from there.
//
// Cache layout under DataPaths.CacheRoot():
//   npm/emoji-datasource-16.0.0.tgz                   the verified tarball (re-extracted offline if needed)
//   emoji-datasource/16.0.0/package/...               the extracted files
//   emoji-datasource/16.0.0/.complete.json            written last: package, version and integrity it came from
using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace ConceptErasure.Data;

/// <summary>The emoji data cannot be used: not cached and not fetchable, or it fails verification. The message says what to run.</summary>
public sealed class EmojiDataUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The pinned npm package, as read from data/emoji/emoji-datasource.lock.json.</summary>
public sealed record NpmPackageLock(
    string Package,                                   // npm name, e.g. "emoji-datasource"
    string Version,                                   // exact version, e.g. "16.0.0"
    string Integrity,                                 // "sha512-<base64>" of the .tgz, as npm reports it
    string Tarball,                                   // registry URL (informational; npm does the download)
    long Size,                                        // tarball size in bytes
    string IndexFile,                                 // path of emoji.json inside the tarball
    IReadOnlyDictionary<string, string> Sheets,       // style name → path of its 32 px sheet inside the tarball
    int SpriteSize,                                   // 32
    int SpritePadding,                                // transparent border around each sprite, 1
    string Source)                                    // the lock file it came from
{
    /// <summary>The file name npm pack writes.</summary>
    public string TarballFileName => $"{Package.Replace('/', '-').TrimStart('@')}-{Version}.tgz";

    /// <summary>"name@version".</summary>
    public string Spec => $"{Package}@{Version}";

    public static NpmPackageLock Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the emoji data lock file does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static NpmPackageLock Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: expected a JSON object.");
            string Str(JsonElement e, string key)
                => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
                    ? s : throw new InvalidDataException($"{source}: missing or empty string field \"{key}\".");
            int Int(JsonElement e, string key)
                => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0
                    ? i : throw new InvalidDataException($"{source}: missing or invalid integer field \"{key}\".");

            string integrity = Str(root, "integrity");
            byte[] digest;
            try { digest = integrity.StartsWith("sha512-", StringComparison.Ordinal) ? Convert.FromBase64String(integrity["sha512-".Length..]) : []; }
            catch (FormatException) { digest = []; }
            if (digest.Length != 64)
                throw new InvalidDataException($"{source}: \"integrity\" must be \"sha512-\" followed by the base64 of a 64-byte digest, not \"{integrity}\".");
            if (!root.TryGetProperty("size", out var sizeEl) || !sizeEl.TryGetInt64(out long size) || size <= 0)
                throw new InvalidDataException($"{source}: missing or invalid \"size\" (tarball bytes).");
            if (!root.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: missing object \"files\".");
            if (!files.TryGetProperty("sheets", out var sheetsEl) || sheetsEl.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: missing object \"files.sheets\".");
            var sheets = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in sheetsEl.EnumerateObject())
                sheets[p.Name] = p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is { Length: > 0 } s
                    ? s : throw new InvalidDataException($"{source}: files.sheets.{p.Name} must be a path string.");
            if (sheets.Count == 0) throw new InvalidDataException($"{source}: files.sheets is empty.");
            return new NpmPackageLock(Str(root, "package"), Str(root, "version"), integrity, Str(root, "tarball"), size,
                Str(files, "index"), sheets, Int(root, "spriteSize"), Int(root, "spritePadding"), source);
        }
    }
}

/// <summary>Where and how the emoji data is obtained.</summary>
public sealed record EmojiSourceOptions(
    string? CacheRoot = null,       // null: DataPaths.CacheRoot()
    string? LockFile = null,        // null: data/emoji/emoji-datasource.lock.json of the repository
    bool AllowFetch = true,         // false: never run npm; a missing cache is an error
    string Npm = "npm",             // npm executable: a name on PATH or a path
    int NpmTimeoutSeconds = 600);   // npm pack is stopped after this long

/// <summary>The verified, extracted emoji-datasource package in the cache.</summary>
public sealed class EmojiDatasource
{
    private const string CompleteMarker = ".complete.json";

    public NpmPackageLock Lock { get; }
    public string CacheRoot { get; }
    /// <summary>Folder the tarball was extracted into (paths in the lock are relative to it).</summary>
    public string Directory { get; }
    /// <summary>The verified tarball kept in the cache.</summary>
    public string TarballPath { get; }
    /// <summary>True when this process downloaded or extracted the package (a cold start).</summary>
    public bool Prepared { get; }

    private EmojiDatasource(NpmPackageLock lockInfo, string cacheRoot, bool prepared)
    {
        Lock = lockInfo;
        CacheRoot = cacheRoot;
        Directory = PackageDir(lockInfo, cacheRoot);
        TarballPath = TarballCachePath(lockInfo, cacheRoot);
        Prepared = prepared;
    }

    /// <summary>emoji.json.</summary>
    public string IndexPath => Path.Combine(Directory, Lock.IndexFile);

    /// <summary>The 32 px sheet of a style.</summary>
    public string SheetPath(EmojiStyle style)
        => Lock.Sheets.TryGetValue(style.Name, out var rel)
            ? Path.Combine(Directory, rel)
            : throw new ArgumentException($"{Lock.Source} pins no sprite sheet for style '{style.Name}'.", nameof(style));

    private static string PackageDir(NpmPackageLock l, string cache) => Path.Combine(cache, l.Package.Replace('/', '-').TrimStart('@'), l.Version);
    private static string TarballCachePath(NpmPackageLock l, string cache) => Path.Combine(cache, "npm", l.TarballFileName);

    /// <summary>
    /// The cached package, preparing it if needed: from the cached tarball, else (when allowed) by `npm pack`.
    /// Throws <see cref="EmojiDataUnavailableException"/> saying what to run when neither works.
    /// </summary>
    public static EmojiDatasource Open(EmojiSourceOptions? options = null, TextWriter? log = null)
    {
        options ??= new EmojiSourceOptions();
        var lockInfo = NpmPackageLock.Load(options.LockFile ?? Path.Combine(DataPaths.EmojiDataDir(), "emoji-datasource.lock.json"));
        string cache = options.CacheRoot is { } c ? Path.GetFullPath(c) : DataPaths.CacheRoot();
        if (IsComplete(lockInfo, cache)) return new EmojiDatasource(lockInfo, cache, prepared: false);

        string tarball = TarballCachePath(lockInfo, cache);
        if (File.Exists(tarball))
        {
            string got = Sha512Integrity(tarball);
            if (got == lockInfo.Integrity)
            {
                log?.WriteLine($"Extracting the cached {lockInfo.TarballFileName} (integrity verified).");
                ExtractPackage(lockInfo, cache, tarball);
                return new EmojiDatasource(lockInfo, cache, prepared: true);
            }
            log?.WriteLine($"The cached {tarball} does not match the pinned integrity ({got}); deleting it and fetching again.");
            File.Delete(tarball);
        }

        if (!options.AllowFetch)
            throw Unavailable(lockInfo, cache, "fetching was disabled (AllowFetch = false)");
        string fetched;
        try { fetched = NpmPack(lockInfo, cache, options, log); }
        catch (NpmFailedException e) { throw Unavailable(lockInfo, cache, e.Message, e); }
        try { InstallTarball(lockInfo, cache, fetched, moveSource: true); }
        finally { if (File.Exists(fetched)) File.Delete(fetched); }
        ExtractPackage(lockInfo, cache, tarball);
        return new EmojiDatasource(lockInfo, cache, prepared: true);
    }

    /// <summary>Uses a tarball obtained elsewhere (e.g. downloaded by hand from the lock's URL): verifies it, copies it into the cache and extracts it.</summary>
    public static EmojiDatasource Import(string tarballFile, EmojiSourceOptions? options = null, TextWriter? log = null)
    {
        options ??= new EmojiSourceOptions();
        var lockInfo = NpmPackageLock.Load(options.LockFile ?? Path.Combine(DataPaths.EmojiDataDir(), "emoji-datasource.lock.json"));
        string cache = options.CacheRoot is { } c ? Path.GetFullPath(c) : DataPaths.CacheRoot();
        if (!File.Exists(tarballFile)) throw new FileNotFoundException($"{tarballFile}: no such tarball.", tarballFile);
        InstallTarball(lockInfo, cache, tarballFile, moveSource: false);
        log?.WriteLine($"Imported {tarballFile} (integrity verified).");
        ExtractPackage(lockInfo, cache, TarballCachePath(lockInfo, cache));
        return new EmojiDatasource(lockInfo, cache, prepared: true);
    }

    /// <summary>npm's integrity string of a file: "sha512-" + base64(SHA-512).</summary>
    public static string Sha512Integrity(string file)
    {
        using var stream = File.OpenRead(file);
        return "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
    }

    private static EmojiDataUnavailableException Unavailable(NpmPackageLock l, string cache, string reason, Exception? inner = null)
        => new($"The emoji data ({l.Spec}) is not in the cache {cache} and could not be fetched: {reason}. " +
               $"Run `workbook data fetch` on a machine with npm and network access (or `workbook data fetch --from <{l.TarballFileName}>` " +
               $"with the tarball from {l.Tarball}), or set {DataPaths.CacheVariable} to a folder that already holds it.", inner);

    private static bool IsComplete(NpmPackageLock l, string cache)
    {
        string dir = PackageDir(l, cache);
        string marker = Path.Combine(dir, CompleteMarker);
        if (!File.Exists(marker)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(marker));
            if (doc.RootElement.GetProperty("integrity").GetString() != l.Integrity) return false;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return false; }
        return File.Exists(Path.Combine(dir, l.IndexFile)) && l.Sheets.Values.All(s => File.Exists(Path.Combine(dir, s)));
    }

    /// <summary>Verifies a tarball against the lock and places it at its cache path (atomically).</summary>
    private static void InstallTarball(NpmPackageLock l, string cache, string file, bool moveSource)
    {
        long size = new FileInfo(file).Length;
        string got = Sha512Integrity(file);
        if (got != l.Integrity)
            throw new EmojiDataUnavailableException(
                $"{file}: sha512 integrity {got} ({size} bytes) does not match the pin {l.Integrity} ({l.Size} bytes) in {l.Source}; refusing to use it. " +
                $"If the pin is meant to change, update {l.Source} deliberately (see data/emoji/README.md).");
        string target = TarballCachePath(l, cache);
        string tmp = AtomicFile.TempPathFor(target);
        if (moveSource) File.Move(file, tmp);
        else File.Copy(file, tmp);
        File.Move(tmp, target, overwrite: true);
    }

    /// <summary>Extracts the tarball into a temporary folder, checks the pinned files are present, writes the marker and renames the folder into place.</summary>
    private static void ExtractPackage(NpmPackageLock l, string cache, string tarball)
    {
        string final = PackageDir(l, cache);
        string parent = Path.GetDirectoryName(final)!;
        System.IO.Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".tmp-{l.Version}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            ExtractTarGz(tarball, tmp);
            foreach (string rel in l.Sheets.Values.Prepend(l.IndexFile))
                if (!File.Exists(Path.Combine(tmp, rel)))
                    throw new EmojiDataUnavailableException($"{tarball}: the package has no {rel}, which {l.Source} expects.");
            string marker = JsonSerializer.Serialize(new { package = l.Package, version = l.Version, integrity = l.Integrity, extracted = DateTime.UtcNow.ToString("O") });
            File.WriteAllText(Path.Combine(tmp, CompleteMarker), marker);
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true); // stale or incomplete
            try { System.IO.Directory.Move(tmp, final); }
            catch (IOException) when (IsComplete(l, cache)) { /* another process finished first */ }
        }
        finally
        {
            if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>Extracts regular files and folders of a .tgz; links, absolute paths and ".." are refused.</summary>
    internal static void ExtractTarGz(string tgz, string destination)
    {
        string root = Path.GetFullPath(destination);
        System.IO.Directory.CreateDirectory(root);
        using var file = File.OpenRead(tgz);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                if (name.Length == 0 || Path.IsPathRooted(name) || name.Split('/').Contains(".."))
                    throw new InvalidDataException($"{tgz}: unsafe entry path \"{entry.Name}\".");
                string target = Path.GetFullPath(Path.Combine(root, name));
                if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new InvalidDataException($"{tgz}: entry \"{entry.Name}\" would land outside the extraction folder.");
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        System.IO.Directory.CreateDirectory(target);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        using (var output = new FileStream(target, FileMode.Create, FileAccess.Write))
                            entry.DataStream?.CopyTo(output);
                        break;
                    case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                        break;
                    default:
                        throw new InvalidDataException($"{tgz}: unsupported entry type {entry.EntryType} for \"{entry.Name}\".");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"{tgz}: cannot extract ({e.Message}).", e);
        }
    }

    /// <summary>npm's own error summary: the "error" object of its --json output, else the first "npm error" lines.</summary>
    internal static string NpmErrorSummary(string stdout, string stderr)
    {
        try
        {
            int brace = stdout.IndexOf('{');
            if (brace >= 0)
            {
                using var doc = JsonDocument.Parse(stdout[brace..]);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
                {
                    string code = error.TryGetProperty("code", out var c) ? c.ToString() : "";
                    string summary = error.TryGetProperty("summary", out var sm) ? sm.ToString() : "";
                    if (code.Length + summary.Length > 0) return $"{code}: {summary}".Trim(' ', ':');
                }
            }
        }
        catch (JsonException) { }
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.StartsWith("npm error", StringComparison.Ordinal) && line.Length > "npm error".Length + 1)
            .Select(line => line["npm error".Length..].Trim()).Take(3).ToList();
        return lines.Count > 0 ? string.Join("; ", lines) : "no error message";
    }

    private sealed class NpmFailedException(string message, Exception? inner = null) : Exception(message, inner);

    /// <summary>Runs `npm pack name@version` in a temporary folder of the cache and returns the tarball's path.</summary>
    private static string NpmPack(NpmPackageLock l, string cache, EmojiSourceOptions options, TextWriter? log)
    {
        string work = Path.Combine(cache, "npm", $".pack-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(work);
        log?.WriteLine($"Fetching {l.Spec} with `{options.Npm} pack` ({l.Size / 1e6:F1} MB) ...");
        var psi = new ProcessStartInfo(options.Npm)
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // One quick retry instead of npm's default two with up to a minute of back-off, so an offline machine hears back in seconds.
        foreach (string arg in new[] { "pack", l.Spec, "--pack-destination", work, "--json", "--ignore-scripts",
                                       "--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=10000" })
            psi.ArgumentList.Add(arg);
        psi.Environment["npm_config_update_notifier"] = "false";
        psi.Environment["npm_config_fund"] = "false";
        psi.Environment["npm_config_audit"] = "false";
        try
        {
            Process process;
            try { process = Process.Start(psi) ?? throw new NpmFailedException($"`{options.Npm}` could not be started"); }
            catch (Win32Exception e) { throw new NpmFailedException($"npm is not installed or not on PATH (`{options.Npm}`: {e.Message})", e); }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(TimeSpan.FromSeconds(options.NpmTimeoutSeconds)))
                {
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    throw new NpmFailedException($"`npm pack {l.Spec}` did not finish within {options.NpmTimeoutSeconds} s");
                }
                process.WaitForExit();
                if (process.ExitCode != 0)
                    throw new NpmFailedException($"`npm pack {l.Spec}` exited with code {process.ExitCode} ({NpmErrorSummary(stdout.Result, stderr.Result)})");
            }
            string produced = Path.Combine(work, l.TarballFileName);
            if (!File.Exists(produced)) throw new NpmFailedException($"`npm pack {l.Spec}` succeeded but wrote no {l.TarballFileName}");
            string keep = Path.Combine(cache, "npm", $".{l.TarballFileName}.fetched-{Guid.NewGuid():N}");
            File.Move(produced, keep);
            return keep;
        }
        finally
        {
            if (System.IO.Directory.Exists(work)) System.IO.Directory.Delete(work, recursive: true);
        }
    }
}
