// `workbook spectrum` end to end on a tiny model, judge and CLIP and a real erase run folder: the files it writes and
// what SpectrumResults reads back from them, --resume keeps a finished run, and bad input is one clear message with
// exit code 1 before anything is written (images out of range, a folder that is not an erase run, an unknown set).
using ConceptErasure.Cli.Commands;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Tests.Audit;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public class SpectrumCommandTests
{
    static (int code, string stdout, string stderr) Run(params string[] args) => CliTestSupport.Run([EraseCommand.Create(), SpectrumCommand.Create()], args);

    sealed class Workspace : IDisposable
    {
        public readonly DirectoryInfo Dir = Directory.CreateTempSubdirectory("ce-spectrum");
        public string Model => Path.Combine(Dir.FullName, "model");
        public string Judge => Path.Combine(Dir.FullName, "judge");
        public string Clip => Path.Combine(Dir.FullName, "clip");
        public string Erased => Path.Combine(Dir.FullName, "run");
        public string Set => Path.Combine(Dir.FullName, "tiny-set.json");
        public string Out => Path.Combine(Dir.FullName, "spectrum");

        public Workspace()
        {
            using (var model = TinyModel.Create())
            {
                model.Save(Model);
                using var clip = new ClipModel(new ClipConfig { text = model.Config.text_encoder, vision_channels = [8, 8, 8], image_size = 4 });
                clip.Save(Clip);
            }
            using (var judge = ConcealmentAuditTests.TinyJudge()) judge.Save(Judge);
            File.WriteAllText(Set, """
                { "name": "tiny-set", "kind": "prompts", "rationale": "test",
                  "entries": [ { "word": "dog", "prompt": "dog", "rationale": "a judge class" }, { "word": " ", "prompt": "", "rationale": "neutral" } ], "splits": [] }
                """);
            var (code, stdout, stderr) = SpectrumCommandTests.Run("erase", "dog", "--model", Model, "--method", "esd", "--iterations", "2", "--eval-images", "0", "--out", Erased);
            Assert.True(code == 0, stderr + stdout);
        }

        public string[] Args(params string[] extra) => [.. Common(extra), "--images", "2"];
        public string[] Common(params string[] extra) =>
            [.. extra, "--model", Model, "--judge", Judge, "--clip", Clip, "--out", Out, "--steps", "2", "--latent-seeds", "2", "--threads", "1", .. extra.Contains("--concepts") ? [] : new[] { "--concepts", Set }];
        public void Dispose() => Dir.Delete(true);
    }

    [Fact]
    public void Measures_a_run_and_the_files_read_back()
    {
        using var w = new Workspace();
        var (code, stdout, stderr) = Run(w.Args("spectrum", w.Erased));
        Assert.True(code == 0, stderr + stdout);
        foreach (var f in new[] { "manifest.json", "original/clip-scores.csv", "run/clip-scores.csv", "run/sensitivity.csv", "run/done.json", "run/erase-manifest.json", "run/history.csv" })
            Assert.True(File.Exists(Path.Combine(w.Out, f)), f);
        var results = SpectrumResults.Load(w.Out);
        Assert.Equal(["dog", "\"\""], results.Original.Select(s => s.Item.Name));
        Assert.Equal(2, results.Options.images);
        var run = Assert.Single(results.Runs);
        Assert.Equal("esd", run.Config.method);
        Assert.Equal(2, run.Sensitivity.Count);                                  // two latent seeds
        Assert.Contains("", run.Sensitivity.First().Value.Keys);                  // the neutral prompts are in the vocabulary
        Assert.NotNull(run.Scores[0].Top1);                                       // "dog" is a judge class,
        Assert.Null(run.Scores[1].Top1);                                          // the empty prompt is not
        Assert.All(ClipDelta.Delta(results.Original, run.Scores), d => Assert.True(double.IsFinite(d.Delta.Mean)));
        Assert.NotEmpty(run.History());

        (code, stdout, stderr) = Run([.. w.Args("spectrum", w.Erased), "--resume"]);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("kept from before", stdout);
        (code, _, stderr) = Run([.. w.Args("spectrum", w.Erased), "--resume", "--latents", "2"]);
        Assert.Equal(1, code);
        Assert.Contains("other options", stderr);
    }

    [Fact]
    public void Bad_input_is_refused_before_any_work()
    {
        using var w = new Workspace();
        void Refused(string expected, params string[] args) => CliTestSupport.AssertRefused(Run, w.Out, expected, args);
        Refused("--images must lie in", w.Common("spectrum", w.Erased, "--images", "0"));
        Refused("not an erase run folder", w.Args("spectrum", w.Judge));
        Refused("no concept set named", w.Common("spectrum", w.Erased, "--concepts", "no-such-set", "--images", "2"));
    }
}
