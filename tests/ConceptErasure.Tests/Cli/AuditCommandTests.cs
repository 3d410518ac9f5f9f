// `workbook audit` end to end on a tiny model, a tiny judge and a real erase run folder: the files it writes, resuming
// keeps finished prompts, and every bad input is one clear message, exit code 1, before any work (nothing written):
// ψ outside [0, 1], a folder that is not an erase run, a results table, a run erased from other weights, a run that
// does not record its weights, a model folder without --forget, --resume with other options.
using System.Text.Json.Nodes;
using ConceptErasure.Cli.Commands;
using ConceptErasure.Tests.Audit;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public class AuditCommandTests
{
    static (int code, string stdout, string stderr) Run(params string[] args) => CliTestSupport.Run([EraseCommand.Create(), AuditCommand.Create()], args);

    static readonly string[] Fast = ["--steps", "4", "--psi", "0", "0.5", "1", "--attack-images", "2", "--reference-images", "6", "--retain", "cat", "--template", "{concept}", "--threads", "1"];

    /// <summary>A folder with a tiny model, a tiny judge and an ESD run of "dog" erased from that model.</summary>
    sealed class Workspace : IDisposable
    {
        public readonly DirectoryInfo Dir = Directory.CreateTempSubdirectory("ce-audit");
        public string Model => Path.Combine(Dir.FullName, "model");
        public string Judge => Path.Combine(Dir.FullName, "judge");
        public string Erased => Path.Combine(Dir.FullName, "run");
        public string Out => Path.Combine(Dir.FullName, "audits");

        public Workspace()
        {
            using (var model = TinyModel.Create()) model.Save(Model);
            using (var judge = ConcealmentAuditTests.TinyJudge()) judge.Save(Judge);
            var (code, stdout, stderr) = AuditCommandTests.Run("erase", "dog", "--model", Model, "--method", "esd", "--iterations", "2", "--eval-images", "0", "--out", Erased);
            Assert.True(code == 0, stderr + stdout);
        }

        public string[] Args(params string[] extra) => [.. extra, "--model", Model, "--judge", Judge, "--out", Out, .. Fast];
        public void Dispose() => Dir.Delete(true);
    }

    [Fact]
    public void Audits_a_run_folder_and_resumes_it()
    {
        using var w = new Workspace();
        var (code, stdout, stderr) = Run(w.Args("audit", w.Erased));
        Assert.True(code == 0, stderr + stdout);
        var dir = Path.Combine(w.Out, "run");
        foreach (var f in new[] { "manifest.json", "scores.csv", "summary.csv", "audit.json", "report.html", "grids/dog.png", "grids/cat.png", "prompts/dog.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Equal(1 + 2 * 3, File.ReadAllLines(Path.Combine(dir, "scores.csv")).Length);   // header + 2 prompts × 3 ψ
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
        Assert.Equal("Completed", (string?)manifest["status"]);
        Assert.Equal("esd", (string?)manifest["audited"]!["method"]);
        Assert.NotNull(manifest["peak_rss_mib"]);
        // what the notebooks read back: the same prompts, in order, with every ψ point
        var loaded = ConceptErasure.Audit.AuditResults.Load(dir);
        Assert.Equal(("run", "erase run", "esd"), (loaded.Name, loaded.Kind, loaded.Method));
        Assert.Equal(["dog", "cat"], loaded.Prompts.Select(p => p.Concept));
        Assert.All(loaded.Prompts, p => Assert.Equal(3, p.Points.Count));
        Assert.Equal(3, loaded.Curve(ConceptErasure.Audit.PromptRole.Forget, p => p.JudgeTop1).Count);

        (code, stdout, stderr) = Run(w.Args("audit", w.Erased, "--resume"));
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("dog kept from before", stdout);
        Assert.Contains("cat kept from before", stdout);

        (code, _, stderr) = Run([.. w.Args("audit", w.Erased, "--resume"), "--reference-seed", "20000"]);
        Assert.Equal(1, code);
        Assert.Contains("other options", stderr);

        (code, _, stderr) = Run(w.Args("audit", w.Erased));   // the same folder again without --resume/--overwrite
        Assert.Equal(1, code);
        Assert.Contains("not empty", stderr);
    }

    [Fact]
    public void Bad_input_is_refused_before_any_work()
    {
        using var w = new Workspace();
        void Refused(string expected, params string[] args) => CliTestSupport.AssertRefused(Run, w.Out, expected, args);
        Refused("ψ must lie in [0, 1]", [.. w.Args("audit", w.Erased), "--psi", "0", "0.5", "1.5"]);
        Refused("not an erase run folder", w.Args("audit", w.Judge));
        Refused("no such folder", w.Args("audit", Path.Combine(w.Dir.FullName, "nowhere")));

        var table = Directory.CreateDirectory(Path.Combine(w.Dir.FullName, "table")).FullName;
        File.WriteAllText(Path.Combine(table, "runs.csv"), "");
        File.WriteAllText(Path.Combine(table, "table.md"), "");
        Refused("is a results table", w.Args("audit", table));

        var other = Path.Combine(w.Dir.FullName, "other-model");
        using (var m = TinyModel.Create(seed: 2)) m.Save(other);
        Refused("erased from other weights", ["audit", w.Erased, "--model", other, "--judge", w.Judge, "--out", w.Out, .. Fast]);

        var manifestPath = Path.Combine(w.Erased, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest.Remove("weights");
        var old = Path.Combine(w.Dir.FullName, "old-run");
        Directory.CreateDirectory(old);
        foreach (var f in Directory.GetFiles(w.Erased)) File.Copy(f, Path.Combine(old, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(old, "manifest.json"), manifest.ToJsonString());
        Refused("does not record which weights", w.Args("audit", old));

        Refused("name the concepts it never saw with --forget", w.Args("audit", w.Model));
    }
}
