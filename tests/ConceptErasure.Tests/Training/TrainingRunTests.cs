// Resume safety of the training commands (Training/TrainingRun.cs, Checkpoint.cs): a resumed run must be the run it
// claims to continue, a refusal happens before any setup and writes nothing, and the only good checkpoint is never
// deleted.
using System.Text.Json.Nodes;
using ConceptErasure.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Training;

public sealed class TrainingRunTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ce-run").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    const string Recipe = """{ "lr": 0.0003, "loop": { "steps": 100, "batch_size": 64 } }""";

    void FakeCheckpoint(string folder) { Directory.CreateDirectory(folder); File.WriteAllText(Path.Combine(folder, "state.json"), "{}"); }

    [Fact]
    public void AFreshRunWritesItsRecipeAndAResumeMustMatchIt()
    {
        TrainingRun.Start(dir, Recipe, resume: false, overwrite: false);
        Assert.Equal(Recipe, File.ReadAllText(Path.Combine(dir, TrainingRun.RecipeFile)));
        FakeCheckpoint(Path.Combine(dir, Checkpoint.FolderName));

        TrainingRun.Start(dir, Recipe, resume: true, overwrite: false);   // same recipe: fine
        var other = Recipe.Replace("0.0003", "0.001").Replace("64", "32");
        var ex = Assert.Throws<ArgumentException>(() => TrainingRun.Start(dir, other, resume: true, overwrite: false));
        Assert.Contains("lr: 0.0003 → 0.001", ex.Message);
        Assert.Contains("loop.batch_size: 64 → 32", ex.Message);
        Assert.Equal(Recipe, File.ReadAllText(Path.Combine(dir, TrainingRun.RecipeFile)));   // not overwritten
    }

    [Fact]
    public void ResumeWithoutACheckpointAndAStartOverAnExistingRunAreRefused()
    {
        Assert.Contains("no checkpoint", Assert.Throws<InvalidOperationException>(() => TrainingRun.Start(dir, Recipe, resume: true, overwrite: false)).Message);
        Assert.False(File.Exists(Path.Combine(dir, TrainingRun.RecipeFile)));
        TrainingRun.Start(dir, Recipe, resume: false, overwrite: false);
        FakeCheckpoint(Path.Combine(dir, Checkpoint.FolderName));
        Assert.Contains("--resume", Assert.Throws<InvalidOperationException>(() => TrainingRun.Start(dir, Recipe, resume: false, overwrite: false)).Message);
        TrainingRun.Start(dir, Recipe, resume: false, overwrite: true);   // --overwrite starts over
        Assert.False(Directory.Exists(Path.Combine(dir, Checkpoint.FolderName)));
    }

    [Fact]
    public void ALeftoverOldCheckpointIsRecoveredNotDeleted()
    {
        // what a kill between the two renames of a save leaves: checkpoint.old only
        using var net = nn.Linear(2, 2);
        var parts = new Checkpoint.Parts();
        parts.Modules["net"] = net;
        var ck = new Checkpoint(dir);
        ck.Save(7, parts);
        Directory.Move(ck.Folder, ck.Folder + ".old");
        Assert.True(ck.Exists);
        ck.Save(8, parts);                                         // the next save must not throw the old one away first
        Assert.Equal(8, (long)JsonNode.Parse(File.ReadAllText(Path.Combine(ck.Folder, "state.json")))!["step"]!);
        Directory.Move(ck.Folder, ck.Folder + ".old");
        Assert.Equal(8, ck.Load(parts).step);                      // and a load puts it back
    }
}
