// A stopped or killed erasure continues from its checkpoint exactly: an uninterrupted run of 4 updates that wrote a
// checkpoint after update 2, and a second run that resumes from that checkpoint, end with the same bytes in θ′ and
// the same history, for every method with its own state (ESD: θ′ and the draw cache; AP: π and its Adam; PGD: c_a).
// A checkpoint made with another config is refused.
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

public sealed class ResumeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ce-resume").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Theory]
    [InlineData("esd")]
    [InlineData("adversarial_preservation")]
    [InlineData("adversarial_pgd")]
    public void AResumedRunIsBitIdenticalToAnUninterruptedOne(string method)
    {
        using var model = Create();
        var c = Config(method, "cat") with { iterations = 4, zt_reuse = 3, pgd_steps = 2, ddim_steps = 5 };   // z_T shared across the checkpoint
        using var whole = Eraser.Run(model, c, checkpointing: new ErasureCheckpointing(dir, Every: 2));
        Assert.True(new ConceptErasure.Training.Checkpoint(dir).Exists);
        using var resumed = Eraser.Run(model, c, checkpointing: new ErasureCheckpointing(dir, Every: 2, Resume: true));
        Assert.Equal(ErasureStatus.Completed, resumed.Status);
        Assert.Equal(whole.IterationsDone, resumed.IterationsDone);
        Assert.Equal(whole.History.Select(r => r with { Seconds = 0 }), resumed.History.Select(r => r with { Seconds = 0 }));
        foreach (var (k, t) in whole.Trained) Assert.Equal(Serialization.Bytes(t), Serialization.Bytes(resumed.Trained[k]));
    }

    [Fact]
    public void ACheckpointOfAnotherConfigOrNoneIsRefused()
    {
        using var model = Create();
        var c = Config("esd", "cat") with { iterations = 4 };
        Assert.Throws<InvalidOperationException>(() => Eraser.Run(model, c, checkpointing: new ErasureCheckpointing(dir, Resume: true)));
        using (Eraser.Run(model, c, checkpointing: new ErasureCheckpointing(dir, Every: 2))) { }
        var ex = Assert.Throws<ArgumentException>(() => Eraser.Run(model, c with { lr = 5e-3 }, checkpointing: new ErasureCheckpointing(dir, Resume: true)));
        Assert.Contains("another erasure config", ex.Message);
    }
}
