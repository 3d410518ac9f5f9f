// `workbook erase` end to end on a tiny model folder: the run folder it writes, and the bad-input behaviour
// (one clear message, exit code 1, no work done and nothing written).
using System.CommandLine;
using ConceptErasure.Cli;
using ConceptErasure.Cli.Commands;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public class EraseCommandTests
{
    static (int code, string stdout, string stderr) Run(params string[] args) => CliTestSupport.Run([EraseCommand.Create(), GenerateCommand.Create()], args);

    [Fact]
    public void ConfigFileIsReadOptionsOverrideItAndGenerateUsesTheRun()
    {
        var dir = Directory.CreateTempSubdirectory("ce-erase");
        try
        {
            var modelDir = Path.Combine(dir.FullName, "model");
            using (var model = TinyModel.Create()) model.Save(modelDir);
            var config = Path.Combine(dir.FullName, "c.json");
            File.WriteAllText(config, """{ "method": "esd", "iterations": 2, "lr": 0.002, "zt_reuse": 1 }""");
            var run = Path.Combine(dir.FullName, "run");
            var (code, stdout, stderr) = Run("erase", "dog", "--model", modelDir, "--config", config, "--iterations", "3", "--eval-images", "0", "--out", run);
            Assert.True(code == 0, stderr + stdout);
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!["config"]!;
            Assert.Equal(("esd", 3, 0.002, 1), ((string)manifest["method"]!, (int)manifest["iterations"]!, (double)manifest["lr"]!, (int)manifest["zt_reuse"]!));

            var png = Path.Combine(dir.FullName, "g.png");
            (code, stdout, stderr) = Run("generate", "dog", "--model", modelDir, "--erased", run, "--count", "1", "--steps", "2", "--out", png);
            Assert.True(code == 0, stderr + stdout);
            Assert.True(new FileInfo(png).Length > 0);
            Assert.Contains("erased model of", stdout);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void AMistypedOptionIsNotTakenForAConcept()
    {
        var (code, _, stderr) = Run("erase", "dog", "--iteratons", "3", "--eval-images", "0", "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        Assert.NotEqual(0, code);
        Assert.Contains("unknown option '--iteratons' for 'erase'", stderr);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-written")));
    }

    [Fact]
    public void AnUnknownConfigKeyIsRefusedBeforeAnyWork()
    {
        var dir = Directory.CreateTempSubdirectory("ce-erase");
        try
        {
            var config = Path.Combine(dir.FullName, "c.json");
            File.WriteAllText(config, """{ "iteratons": 3 }""");
            var run = Path.Combine(dir.FullName, "run");
            var (code, _, stderr) = Run("erase", "dog", "--config", config, "--out", run);
            Assert.Equal(1, code);
            Assert.Contains("iteratons", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void WritesACompleteRunFolder()
    {
        var dir = Directory.CreateTempSubdirectory("ce-erase");
        try
        {
            using (var model = TinyModel.Create()) model.Save(Path.Combine(dir.FullName, "model"));
            var run = Path.Combine(dir.FullName, "run");
            var (code, stdout, stderr) = Run("erase", "dog", "--model", Path.Combine(dir.FullName, "model"), "--method", "esd",
                "--iterations", "3", "--eval-images", "0", "--out", run);
            Assert.True(code == 0, stderr + stdout);
            foreach (var f in new[] { "unet-delta.safetensors", "manifest.json", "history.csv" })
                Assert.True(File.Exists(Path.Combine(run, f)), f);
            Assert.Contains("\"esd\"", File.ReadAllText(Path.Combine(run, "manifest.json")));
            Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "history.csv")).Length);   // header + 3 updates
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void UnknownConceptIsRefusedWithSuggestions()
    {
        var (code, _, stderr) = Run("erase", "delivery trucks", "--eval-images", "0", "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        Assert.Equal(1, code);
        Assert.Contains("delivery truck", stderr);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-written")));
    }

    [Fact]
    public void AStylePromptIsErasableButHasNoEsrPsr()
    {
        Assert.Equal("twitter style", EraseCommand.StylePrompt(" Twitter style"));
        Assert.Null(EraseCommand.StylePrompt("apple style"));                 // a style the shipped model was not trained on
        Assert.Null(EraseCommand.StylePrompt("twitter"));
        var never = Path.Combine(Path.GetTempPath(), "never-written-style");
        var (code, _, stderr) = Run("erase", "twitter style", "--eval-images", "4", "--out", never);
        Assert.Equal(1, code);
        Assert.Contains("--eval-images 0", stderr);
        Assert.False(Directory.Exists(never));
    }

    [Fact]
    public void InvalidHyperParametersAreRefusedBeforeAnyWork()
    {
        var dir = Directory.CreateTempSubdirectory("ce-erase");
        try
        {
            using (var model = TinyModel.Create()) model.Save(Path.Combine(dir.FullName, "model"));
            var run = Path.Combine(dir.FullName, "run");
            var (code, _, stderr) = Run("erase", "dog", "--model", Path.Combine(dir.FullName, "model"), "--lr", "-1", "--eval-images", "0", "--out", run);
            Assert.Equal(1, code);
            Assert.Contains("lr", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally { dir.Delete(true); }
    }
}
