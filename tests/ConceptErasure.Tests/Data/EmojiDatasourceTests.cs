// Tests of acquisition: cache-folder precedence, the committed lock file, and — on a small synthetic package built
// here, so nothing touches the network — integrity verification, extraction, offline reuse of the cache, re-extraction
// from the cached tarball, refusal of tampered or unsafe tarballs, and the single clear error when nothing works.
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public sealed class EmojiDatasourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emoji-source-test-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string TinyIndex = """
        [{"name":"DELIVERY TRUCK","unified":"1F69A","short_names":["truck"],"category":"Travel & Places","subcategory":"transport-ground",
          "sheet_x":0,"sheet_y":0,"sort_order":1,"has_img_twitter":true,"has_img_google":true,"has_img_apple":true,"has_img_facebook":false}]
        """;

    /// <summary>Writes a .tgz with the given entries (name → bytes, or null for a directory entry).</summary>
    private string Tarball(string name, params (string Path, byte[]? Data)[] entries)
    {
        string path = Path.Combine(_dir, name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        foreach (var (p, data) in entries)
        {
            var entry = new PaxTarEntry(data is null ? TarEntryType.Directory : TarEntryType.RegularFile, p);
            if (data is not null) entry.DataStream = new MemoryStream(data);
            tar.WriteEntry(entry);
        }
        return path;
    }

    private string FakePackage()
    {
        var sheet = new RgbaImage(34, 34);
        sheet.Fill(1, 1, 32, 32, 200, 10, 10);
        var png = Png.Encode(sheet);
        return Tarball("emoji-datasource-16.0.0.tgz",
            ("package/emoji.json", Encoding.UTF8.GetBytes(TinyIndex)),
            ("package/img/twitter/sheets/32.png", png),
            ("package/README.md", "hello"u8.ToArray()));
    }

    private string LockFor(string tarball, string? integrity = null)
    {
        string path = Path.Combine(_dir, "test.lock.json");
        File.WriteAllText(path, $$"""
            { "package": "emoji-datasource", "version": "16.0.0",
              "integrity": "{{integrity ?? EmojiDatasource.Sha512Integrity(tarball)}}",
              "tarball": "https://example.invalid/emoji-datasource-16.0.0.tgz", "size": {{new FileInfo(tarball).Length}},
              "spriteSize": 32, "spritePadding": 1,
              "files": { "index": "package/emoji.json", "sheets": { "twitter": "package/img/twitter/sheets/32.png" } } }
            """);
        return path;
    }

    private EmojiSourceOptions Options(string lockFile, bool allowFetch = false, string npm = "npm")
        => new(CacheRoot: Path.Combine(_dir, "cache"), LockFile: lockFile, AllowFetch: allowFetch, Npm: npm);

    [Fact]
    public void Cache_root_follows_the_documented_precedence()
    {
        string? Env(Dictionary<string, string> d, string k) => d.GetValueOrDefault(k);
        var own = new Dictionary<string, string> { ["CONCEPT_ERASURE_CACHE"] = "/x/own", ["XDG_CACHE_HOME"] = "/x/xdg" };
        Assert.Equal("/x/own", DataPaths.CacheRoot(k => Env(own, k), "/home/u"));
        var xdg = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = "/x/xdg" };
        Assert.Equal(Path.Combine("/x/xdg", "concept-erasure"), DataPaths.CacheRoot(k => Env(xdg, k), "/home/u"));
        var relativeXdg = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = "relative/xdg" };
        Assert.Equal(Path.Combine("/home/u", ".cache", "concept-erasure"), DataPaths.CacheRoot(k => Env(relativeXdg, k), "/home/u"));
        Assert.Equal(Path.GetFullPath("rel-cache"), DataPaths.CacheRoot(k => k == "CONCEPT_ERASURE_CACHE" ? "rel-cache" : null, "/home/u"));
        Assert.Throws<InvalidOperationException>(() => DataPaths.CacheRoot(_ => null, null));
    }

    [Fact]
    public void Committed_lock_pins_the_main_package_with_all_four_sheets()
    {
        var l = NpmPackageLock.Load(Path.Combine(DataPaths.EmojiDataDir(), "emoji-datasource.lock.json"));
        Assert.Equal("emoji-datasource", l.Package);
        Assert.Equal("16.0.0", l.Version);
        Assert.StartsWith("sha512-", l.Integrity);
        Assert.Equal(64, Convert.FromBase64String(l.Integrity["sha512-".Length..]).Length);
        Assert.Equal(["apple", "facebook", "google", "twitter"], l.Sheets.Keys.Order());
        Assert.All(EmojiStyle.All, s => Assert.Equal($"package/img/{s.Name}/sheets/32.png", l.Sheets[s.Name]));
        Assert.Equal((32, 1), (l.SpriteSize, l.SpritePadding));
        Assert.Equal("emoji-datasource-16.0.0.tgz", l.TarballFileName);
    }

    [Fact]
    public void Lock_file_errors_name_the_file_and_the_field()
    {
        var e = Assert.Throws<InvalidDataException>(() => NpmPackageLock.Parse("""{"package":"p","version":"1"}""", "x.lock.json"));
        Assert.Contains("x.lock.json", e.Message);
        Assert.Contains("integrity", e.Message);
        e = Assert.Throws<InvalidDataException>(() => NpmPackageLock.Parse("""{"package":"p","version":"1","integrity":"sha1-abc"}""", "y.json"));
        Assert.Contains("sha512-", e.Message);
        Assert.Throws<InvalidDataException>(() => NpmPackageLock.Parse("not json", "z.json"));
    }

    [Fact]
    public void Imported_package_is_verified_extracted_and_then_used_offline()
    {
        string tgz = FakePackage();
        var options = Options(LockFor(tgz));
        var first = EmojiDatasource.Import(tgz, options);
        Assert.True(first.Prepared);
        Assert.True(File.Exists(first.IndexPath));
        Assert.True(File.Exists(first.SheetPath(EmojiStyle.Twitter)));
        Assert.True(File.Exists(first.TarballPath));
        Assert.Equal(File.ReadAllBytes(tgz), File.ReadAllBytes(first.TarballPath));

        var again = EmojiDatasource.Open(options); // AllowFetch = false: must come from the cache
        Assert.False(again.Prepared);
        var data = new EmojiData(again, EmojiIndex.Load(again.IndexPath));
        var images = data.Images([data.Index["delivery truck"]], [EmojiStyle.Twitter]);
        Assert.Equal([1L, 3, 32, 32], images.Shape);
        Assert.Equal(200 / 127.5f - 1f, images.Pixels[0], 5);          // red channel of the sprite
        Assert.Equal(10 / 127.5f - 1f, images.Pixels[32 * 32], 5);     // green channel
        // no temporary files or folders are left behind
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(_dir, "cache"), ".*", SearchOption.AllDirectories),
            p => !p.EndsWith(".complete.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_extraction_is_rebuilt_from_the_cached_tarball_without_npm()
    {
        string tgz = FakePackage();
        var options = Options(LockFor(tgz), allowFetch: true, npm: Path.Combine(_dir, "no-such-npm"));
        var imported = EmojiDatasource.Import(tgz, options);
        Directory.Delete(imported.Directory, recursive: true);
        var reopened = EmojiDatasource.Open(options);
        Assert.True(reopened.Prepared);
        Assert.True(File.Exists(reopened.IndexPath));
    }

    [Fact]
    public void Stale_marker_from_another_pin_triggers_reextraction()
    {
        string tgz = FakePackage();
        var options = Options(LockFor(tgz));
        var imported = EmojiDatasource.Import(tgz, options);
        File.WriteAllText(Path.Combine(imported.Directory, ".complete.json"), """{"integrity":"sha512-other"}""");
        File.Delete(imported.IndexPath);
        Assert.True(EmojiDatasource.Open(options).Prepared);
        Assert.True(File.Exists(imported.IndexPath));
    }

    [Fact]
    public void Nothing_cached_and_fetching_impossible_gives_one_clear_error()
    {
        string tgz = FakePackage();
        string lockFile = LockFor(tgz);
        var noFetch = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Open(Options(lockFile)));
        Assert.Contains("workbook data fetch", noFetch.Message);
        Assert.Contains(Path.Combine(_dir, "cache"), noFetch.Message);

        var noNpm = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Open(Options(lockFile, allowFetch: true, npm: Path.Combine(_dir, "no-such-npm"))));
        Assert.Contains("npm is not installed", noNpm.Message);
        Assert.Contains("workbook data fetch", noNpm.Message);
        Assert.Contains("emoji-datasource@16.0.0", noNpm.Message);
    }

    /// <summary>A stand-in for npm (POSIX shell script; the workbook targets Linux) that runs the body with "$@" = npm's arguments.</summary>
    private string FakeNpm(string body)
    {
        string path = Path.Combine(_dir, "fake-npm");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void Fetch_runs_npm_pack_then_verifies_and_extracts()
    {
        string tgz = FakePackage();
        // npm pack <spec> --pack-destination <dir> ...: copy the package where npm would write it
        string npm = FakeNpm($"""
            [ "$1" = pack ] && [ "$2" = emoji-datasource@16.0.0 ] && [ "$3" = --pack-destination ] || exit 9
            cp '{tgz}' "$4/emoji-datasource-16.0.0.tgz"
            """);
        var source = EmojiDatasource.Open(Options(LockFor(tgz), allowFetch: true, npm: npm));
        Assert.True(source.Prepared);
        Assert.True(File.Exists(source.IndexPath));
        Assert.Equal(File.ReadAllBytes(tgz), File.ReadAllBytes(source.TarballPath));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "cache", "npm"), ".*"));
    }

    [Fact]
    public void Npm_failures_are_reported_with_npms_own_reason()
    {
        string tgz = FakePackage();
        string npm = FakeNpm("""
            echo '{ "error": { "code": "ECONNREFUSED", "summary": "request to https://registry.npmjs.org/emoji-datasource failed" } }'
            echo 'npm error code ECONNREFUSED' >&2
            exit 1
            """);
        var e = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Open(Options(LockFor(tgz), allowFetch: true, npm: npm)));
        Assert.Contains("ECONNREFUSED: request to https://registry.npmjs.org/emoji-datasource failed", e.Message);
        Assert.Contains("workbook data fetch", e.Message);

        Assert.Equal("code E404; 404 Not Found", EmojiDatasource.NpmErrorSummary("", "npm warn x\nnpm error code E404\nnpm error 404 Not Found\n"));
        Assert.Equal("no error message", EmojiDatasource.NpmErrorSummary("", ""));
    }

    [Fact]
    public void Npm_that_succeeds_with_the_wrong_bytes_is_refused()
    {
        string tgz = FakePackage();
        string lockFile = LockFor(tgz);
        File.AppendAllText(tgz, "tampered");
        string npm = FakeNpm($"""cp '{tgz}' "$4/emoji-datasource-16.0.0.tgz" """);
        var e = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Open(Options(lockFile, allowFetch: true, npm: npm)));
        Assert.Contains("does not match the pin", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "cache", "npm"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Tampered_tarballs_are_refused_and_not_kept()
    {
        string tgz = FakePackage();
        string lockFile = LockFor(tgz);
        File.AppendAllText(tgz, "x");
        var e = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Import(tgz, Options(lockFile)));
        Assert.Contains("does not match the pin", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "cache", "npm", "emoji-datasource-16.0.0.tgz")));

        // a corrupted tarball already in the cache is deleted, not extracted
        string good = FakePackage();
        var options = Options(LockFor(good));
        var imported = EmojiDatasource.Import(good, options);
        Directory.Delete(imported.Directory, recursive: true);
        File.AppendAllText(imported.TarballPath, "x");
        Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Open(options));
        Assert.False(File.Exists(imported.TarballPath));
        Assert.False(Directory.Exists(imported.Directory));
    }

    [Fact]
    public void Package_missing_a_pinned_file_is_refused()
    {
        string tgz = Tarball("emoji-datasource-16.0.0.tgz", ("package/emoji.json", Encoding.UTF8.GetBytes(TinyIndex)));
        var e = Assert.Throws<EmojiDataUnavailableException>(() => EmojiDatasource.Import(tgz, Options(LockFor(tgz))));
        Assert.Contains("package/img/twitter/sheets/32.png", e.Message);
    }

    [Fact]
    public void Unsafe_tar_entries_are_refused()
    {
        string tgz = Tarball("evil.tgz", ("package/../../evil.txt", "x"u8.ToArray()));
        var e = Assert.Throws<InvalidDataException>(() => EmojiDatasource.ExtractTarGz(tgz, Path.Combine(_dir, "out")));
        Assert.Contains("unsafe entry", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "evil.txt")));

        string ok = Tarball("ok.tgz", ("package", null), ("package/a/b.txt", "b"u8.ToArray()));
        EmojiDatasource.ExtractTarGz(ok, Path.Combine(_dir, "out2"));
        Assert.Equal("b", File.ReadAllText(Path.Combine(_dir, "out2", "package", "a", "b.txt")));
    }
}
