// PGD's trajectory (Erasure/EmbeddingTrajectory.cs) on a tiny model: update 0 is τ(c_e), then a copy every k
// applied updates; the last copy is the run's final c_a, earlier copies are not aliases of the live tensor (they
// differ from it once c_a has moved); only PGD runs can be recorded.
using ConceptErasure.Erasure;
using ConceptErasure.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class EmbeddingTrajectoryTests
{
    [Fact]
    public void Records_tau_of_c_e_then_every_kth_update_as_copies()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(2);
        var config = TinyModel.Config(ErasureConfig.Methods.AdversarialPgd, "truck") with { iterations = 4, pgd_steps = 2, pgd_lr = 0.05 };
        using var trajectory = new EmbeddingTrajectory(model, config, every: 2);
        Tensor? final = null;
        using var result = Eraser.Run(model, config, onIteration: (rows, method) =>
        {
            trajectory.Record(rows, method);
            final?.Dispose();
            final = ((AdversarialPgd)method).Embeddings[0].detach().clone().DetachFromDisposeScope();
        });
        Assert.Equal(ErasureStatus.Completed, result.Status);
        Assert.Equal([0, 2, 4], trajectory.Snapshots.Select(s => s.Update));
        Assert.All(trajectory.Snapshots, s => Assert.Equal("truck", s.Concept));
        Assert.True(model.Prompts.Encode("truck").allclose(trajectory.Snapshots[0].Context), "update 0 is τ(c_e)");
        Assert.True(final!.allclose(trajectory.Snapshots[2].Context), "the last snapshot is the final c_a");
        Assert.False(trajectory.Snapshots[1].Context.allclose(trajectory.Snapshots[2].Context), "a snapshot is a copy, not the live c_a");
        Assert.False(trajectory.Snapshots[0].Context.allclose(trajectory.Snapshots[2].Context), "c_a moved");
        // a recorded c_a can be drawn like a prompt: the same noise gives the same images as its prompt's encoding
        var pipe = new StableDiffusionPipeline(model);
        var o = new SamplingOptions { steps = 3 };
        Assert.True(pipe.Generate(model.Unet, trajectory.Snapshots[0].Context, 2, o, 5)
            .allclose(ConceptErasure.Evaluation.QualityGate.Generate(pipe, model.Unet, "truck", 2, o, 5), 1e-5, 1e-5));
        final.Dispose();
        Assert.Throws<ArgumentException>(() => new EmbeddingTrajectory(model, TinyModel.Config(ErasureConfig.Methods.Esd, "truck"), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingTrajectory(model, config, 0));
    }
}
