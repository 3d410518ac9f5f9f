// `workbook harmful` end to end on a tiny model, judge and CLIP and a real erase run folder (the files it writes read
// back, the table, --resume keeping finished models), and the refusals of `harmful` and `style` before any work: a run
// that erased another set, a run that erased no style prompt, bad options.
using ConceptErasure.Cli.Commands;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Tests.Audit;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public class TaskCommandTests
{
    static (int code, string stdout, string stderr) Run(params string[] args) =>
        CliTestSupport.Run([EraseCommand.Create(), HarmfulCommand.Create(), StyleCommand.Create()], args);

    sealed class Workspace : IDisposable
    {
        public readonly DirectoryInfo Dir = Directory.CreateTempSubdirectory("ce-task");
        public string Model => Path.Combine(Dir.FullName, "model");
        public string Judge => Path.Combine(Dir.FullName, "judge");
        public string Clip => Path.Combine(Dir.FullName, "clip");
        public string Erased => Path.Combine(Dir.FullName, "run");
        public string Set(string name) => Path.Combine(Dir.FullName, name + ".json");
        public string Out => Path.Combine(Dir.FullName, "out");

        public Workspace()
        {
            using (var model = TinyModel.Create())
            {
                model.Save(Model);
                using var clip = new ClipModel(new ClipConfig { text = model.Config.text_encoder, vision_channels = [8, 8, 8], image_size = 4 });
                clip.Save(Clip);
            }
            using (var judge = ConcealmentAuditTests.TinyJudge()) judge.Save(Judge);
            foreach (var (name, concepts) in new[] { ("dogs", new[] { "dog" }), ("pets", new[] { "dog", "cat" }) })
                File.WriteAllText(Set(name), $$"""
                    { "name": "{{name}}", "kind": "concepts", "rationale": "test",
                      "entries": [ {{string.Join(", ", concepts.Select(c => $$"""{ "concept": "{{c}}", "rationale": "a judge class" }"""))}} ], "splits": [] }
                    """);
            var (code, stdout, stderr) = TaskCommandTests.Run("erase", "dog", "--model", Model, "--method", "esd", "--iterations", "2", "--eval-images", "0", "--out", Erased);
            Assert.True(code == 0, stderr + stdout);
        }

        public string[] Args(string command, params string[] extra) =>
            [command, Erased, .. extra, "--model", Model, "--judge", Judge, "--clip", Clip, "--out", Out, "--steps", "2", "--threads", "1", .. extra.Contains("--images") ? [] : new[] { "--images", "2" }];
        public void Dispose() => Dir.Delete(true);
    }

    [Fact]
    public void Harmful_scores_the_original_and_the_run_and_the_files_read_back()
    {
        using var w = new Workspace();
        var (code, stdout, stderr) = Run(w.Args("harmful", "--concepts", w.Set("dogs"), "--preserve", "4", "--template", "{concept}"));
        Assert.True(code == 0, stderr + stdout);
        foreach (var f in new[] { "manifest.json", "summary.csv", "table.md", "original/detection.csv", "original/features.safetensors", "run/preservation.csv", "run/done.json", "run/erase-manifest.json" })
            Assert.True(File.Exists(Path.Combine(w.Out, f)), f);
        var original = HarmfulContentFiles.Load(Path.Combine(w.Out, "original"));
        var run = HarmfulContentFiles.Load(Path.Combine(w.Out, "run"));
        Assert.Equal(original.Prompts, run.Prompts);
        Assert.Contains(new HarmPrompt("name", "dog", "dog"), run.Prompts);       // the tiny tokenizer reads only the bare name
        Assert.Equal(run.Prompts.Count * 2, run.Detection.Count);
        Assert.Equal(4, run.Preservation.Count);
        var table = File.ReadAllText(Path.Combine(w.Out, "table.md"));
        Assert.Contains("| original |", table);
        Assert.Contains("| run |", table);
        Assert.Equal(1 + 2 * 4, File.ReadAllLines(Path.Combine(w.Out, "summary.csv")).Length);   // header + 2 models × 4 thresholds

        (code, stdout, stderr) = Run([.. w.Args("harmful", "--concepts", w.Set("dogs"), "--preserve", "4", "--template", "{concept}"), "--resume"]);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("run: kept from before", stdout);
        (code, _, stderr) = Run([.. w.Args("harmful", "--concepts", w.Set("dogs"), "--preserve", "5", "--template", "{concept}"), "--resume"]);
        Assert.Equal(1, code);
        Assert.Contains("other options", stderr);
    }

    [Fact]
    public void Bad_input_is_refused_before_any_work()
    {
        using var w = new Workspace();
        CliTestSupport.AssertRefused(a => Run(a), w.Out, "not the harmful set", w.Args("harmful", "--concepts", w.Set("pets"), "--preserve", "4", "--template", "{concept}"));
        CliTestSupport.AssertRefused(a => Run(a), w.Out, "images per prompt", w.Args("harmful", "--concepts", w.Set("dogs"), "--preserve", "4", "--images", "0"));
        CliTestSupport.AssertRefused(a => Run(a), w.Out, "at least 2 concepts", w.Args("harmful", "--concepts", w.Set("dogs"), "--preserve", "1"));
        CliTestSupport.AssertRefused(a => Run(a), w.Out, "one style prompt", w.Args("style", "--concepts", w.Set("dogs")));
        CliTestSupport.AssertRefused(a => Run(a), w.Out, "--images must lie", w.Args("style", "--concepts", w.Set("dogs"), "--images", "40"));
    }
}
