// RunFolder.cs — a folder a command writes its results into, made ready before any work so that a long run never
// ends unable to save: a file or another run's folder is refused (unless asked to overwrite, which clears it first),
// the folder is proved writable with a probe file, and the disk must have room for what will be written.
namespace ConceptErasure.Data;

public static class RunFolder
{
    /// <summary>Prepares <paramref name="dir"/> (see the file comment); <paramref name="what"/> names it in errors
    /// (e.g. "--out"). <paramref name="allowExisting"/> accepts a non-empty folder as it is (a resumed run).</summary>
    public static void Prepare(string dir, bool overwrite, long neededBytes = 64L << 20, string what = "--out", bool allowExisting = false)
    {
        if (File.Exists(dir)) throw new IOException($"{what} {dir} is a file, not a folder");
        var full = Path.GetFullPath(dir);
        if (Directory.Exists(full) && !allowExisting && Directory.EnumerateFileSystemEntries(full).Any())
        {
            if (!overwrite)
                throw new IOException($"{what} {dir} is not empty (it holds another run): choose a new folder, or pass --overwrite to clear it");
            foreach (var f in Directory.EnumerateFiles(full)) File.Delete(f);
            foreach (var d in Directory.EnumerateDirectories(full)) Directory.Delete(d, true);
        }
        Directory.CreateDirectory(full);
        var probe = Path.Combine(full, ".write-probe");
        try { File.WriteAllText(probe, ""); }
        catch (UnauthorizedAccessException) { throw new IOException($"{what} {dir} is not writable"); }
        finally { if (File.Exists(probe)) File.Delete(probe); }
        if (Path.GetPathRoot(full) is { Length: > 0 } root)
        {
            var free = new DriveInfo(root).AvailableFreeSpace;
            if (free < neededBytes) throw new IOException($"{what} {dir}: only {free >> 20} MiB free on its disk, {neededBytes >> 20} MiB needed");
        }
    }
}
