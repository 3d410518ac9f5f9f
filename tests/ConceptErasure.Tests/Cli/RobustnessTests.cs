// The probe cases of the robustness issue, each as a test: every bad input gets one clear line and the right exit
// code before any work, a run folder is never mixed with another run, and what a folder holds is written down.
using System.CommandLine;
using ConceptErasure.Cli;
using ConceptErasure.Cli.Commands;
using ConceptErasure.Erasure;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public sealed class RobustnessTests : IDisposable
{
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("ce-robust");
    readonly string modelDir;

    public RobustnessTests()
    {
        modelDir = Path.Combine(dir.FullName, "model");
        using var model = TinyModel.Create();
        model.Save(modelDir);
    }

    public void Dispose() => dir.Delete(true);

    static (int code, string stdout, string stderr) Run(params string[] args) => CliTestSupport.Run([EraseCommand.Create(), GenerateCommand.Create(), TrainCommand.Create(), EvaluateCommand.Create()], args);

    (int code, string stdout, string stderr) Erase(string run, params string[] extra) =>
        Run(["erase", "dog", "--model", modelDir, "--method", "esd", "--eval-images", "0", "--out", run,
             .. extra.Contains("--iterations") ? extra : ["--iterations", "2", .. extra]]);

    [Fact]
    public void ANonEmptyOutFolderIsRefusedUnlessOverwritten()
    {
        var run = Path.Combine(dir.FullName, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "evaluation.json"), "{ \"from\": \"another run\" }");
        var (code, _, stderr) = Erase(run);
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains("not empty", stderr);
        Assert.Contains("--overwrite", stderr);
        Assert.True(File.Exists(Path.Combine(run, "evaluation.json")));   // untouched

        (code, _, stderr) = Erase(run, "--overwrite");
        Assert.True(code == 0, stderr);
        Assert.False(File.Exists(Path.Combine(run, "evaluation.json")));  // the other run's file is gone
        Assert.True(File.Exists(Path.Combine(run, "manifest.json")));
    }

    [Fact]
    public void AnOutThatIsAFileIsOneClearErrorBeforeAnyWork()
    {
        var file = Path.Combine(dir.FullName, "a-file");
        File.WriteAllText(file, "x");
        var (code, stdout, stderr) = Erase(file);
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains("is a file", stderr);
        Assert.DoesNotContain("erasing", stdout);
        Assert.DoesNotContain("   at ", stderr);   // no stack trace
    }

    [Fact]
    public void TheManifestSaysWhatTheFolderHolds()
    {
        var run = Path.Combine(dir.FullName, "run");
        var (code, _, stderr) = Erase(run);
        Assert.True(code == 0, stderr);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!;
        Assert.Equal("Completed", (string)manifest["status"]!);
        Assert.Equal("skipped", (string)manifest["evaluation"]!);

        // a folder whose manifest still says Running (killed before it saved) is refused by every reader
        File.WriteAllText(Path.Combine(run, "manifest.json"), """{ "status": "Running", "config": {} }""");
        Assert.Contains("has not finished", Assert.Throws<InvalidDataException>(() => ErasureResult.Load(run)).Message);
        File.WriteAllText(Path.Combine(run, "manifest.json"), "{ not json");
        (code, _, stderr) = Run("generate", "dog", "--model", modelDir, "--erased", run, "--count", "1", "--steps", "2", "--out", Path.Combine(dir.FullName, "g.png"));
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains("manifest.json", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void ANonFiniteLossExitsWithItsOwnCode()
    {
        var run = Path.Combine(dir.FullName, "run");
        var (code, _, stderr) = Run("erase", "dog", "--model", modelDir, "--method", "esd", "--iterations", "20", "--lr", "1e30", "--eval-images", "0", "--out", run);
        Assert.Equal(ExitCode.NonFiniteLoss, code);
        Assert.Contains("NaN", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("NonFiniteLoss", (string)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!["status"]!);
    }

    [Theory]
    [InlineData("""{ "method": null }""", "$.method is null")]
    [InlineData("""{ "erase": [null] }""", "$.erase[0] is null")]
    [InlineData("""{ "iterations": 3, "iterations": 4 }""", "$.iterations is given twice")]
    public void NullsAndDuplicateKeysInAConfigAreNamed(string json, string expected)
    {
        var config = Path.Combine(dir.FullName, "c.json");
        File.WriteAllText(config, json);
        var run = Path.Combine(dir.FullName, "run");
        var (code, _, stderr) = Run("erase", "dog", "--model", modelDir, "--config", config, "--out", run);
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("--eval-images", "2000000000", "--eval-images must lie in")]
    [InlineData("--threads", "100000", "--threads must lie in")]
    public void CountsAreBoundedByWhatTheyMean(string option, string value, string expected)
    {
        var run = Path.Combine(dir.FullName, "run");
        var (code, _, stderr) = Run("erase", "dog", "--model", modelDir, "--method", "esd", option, value, "--out", run);
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void AMistypedOptionGetsTheClosestName()
    {
        var (code, _, stderr) = Run("erase", "dog", "--iteratons", "3", "--out", Path.Combine(dir.FullName, "run"));
        Assert.NotEqual(0, code);
        Assert.Contains("did you mean --iterations?", stderr);
    }

    [Fact]
    public void ManyConceptsGiveAShortDefaultFolderName()
    {
        var slug = CommandSupport.Slug(string.Join("+", Enumerable.Repeat("delivery truck", 40)));
        Assert.True(slug.Length <= 80, slug);
        Assert.NotEqual(slug, CommandSupport.Slug(string.Join("+", Enumerable.Repeat("delivery truck", 41))));
    }

    [Fact]
    public void ComputedOrOutOfRangeModelSettingsAreRefusedNamingTheFile()
    {
        var json = Path.Combine(modelDir, "model.json");
        var original = File.ReadAllText(json);
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(original)!;
            node["vae"]!["LatentSize"] = 9;                          // a computed value is not a setting
            File.WriteAllText(json, node.ToJsonString());
            var latent = Assert.Throws<InvalidDataException>(() => ConceptErasure.Models.FoundationConfig.Load(json)).Message;
            Assert.Contains(json, latent);
            Assert.Contains("LatentSize", latent);
            File.WriteAllText(json, original.Replace("\"train_timesteps\": 1000", "\"train_timesteps\": 0"));
            var ex = Assert.Throws<InvalidDataException>(() => ConceptErasure.Models.FoundationConfig.Load(json));
            Assert.Contains(json, ex.Message);
            Assert.Contains("train_timesteps", ex.Message);
        }
        finally { File.WriteAllText(json, original); }
    }

    [Fact]
    public void AKilledEraseResumesFromWhatItsFolderHolds()
    {
        // an uninterrupted run, and its config as the command resolved it
        var whole = Path.Combine(dir.FullName, "whole");
        var (code, _, stderr) = Erase(whole, "--iterations", "4");
        Assert.True(code == 0, stderr);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "manifest.json")))!.AsObject();
        var config = ErasureConfig.FromJson(manifest["config"]!.ToJsonString());

        // what a kill -9 after update 3 leaves: the Running manifest and the checkpoint of update 2
        var killed = Path.Combine(dir.FullName, "killed");
        Directory.CreateDirectory(killed);
        using (var model = ConceptErasure.Models.FoundationModel.Load(modelDir))
        using (Eraser.Run(model, config, checkpointing: new ErasureCheckpointing(killed, Every: 2))) { }
        EraseCommand.WriteManifest(killed, new System.Text.Json.Nodes.JsonObject { ["status"] = "Running", ["config"] = manifest["config"]!.DeepClone() });
        Assert.Contains("has not finished", Assert.Throws<InvalidDataException>(() => ErasureResult.Load(killed)).Message);

        (code, var stdout, stderr) = Erase(killed, "--iterations", "4", "--resume");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("resumed", stdout);
        using var a = ErasureResult.Load(whole);
        using var b = ErasureResult.Load(killed);
        foreach (var (k, t) in a.Trained) Assert.Equal(ConceptErasure.Data.Serialization.Bytes(t), ConceptErasure.Data.Serialization.Bytes(b.Trained[k]));
        Assert.False(Directory.Exists(Path.Combine(killed, "checkpoint")));   // done: the results hold everything

        // a run stopped before its first checkpoint, or resumed with other options, is one clear error
        (code, _, stderr) = Erase(killed, "--iterations", "5", "--resume");
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains("another erasure config", stderr);
        var early = Path.Combine(dir.FullName, "early");
        Directory.CreateDirectory(early);
        EraseCommand.WriteManifest(early, new System.Text.Json.Nodes.JsonObject { ["status"] = "Running", ["config"] = manifest["config"]!.DeepClone() });
        (code, _, stderr) = Erase(early, "--iterations", "4", "--resume");
        Assert.Equal(ExitCode.Failed, code);
        Assert.Contains("no checkpoint yet", stderr);
    }
}
