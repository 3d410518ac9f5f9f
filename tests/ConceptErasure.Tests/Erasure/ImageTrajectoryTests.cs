// The images drawn during an erasure (Erasure/ImageTrajectory.cs) on a tiny model: update 0 is the original model's
// image, later snapshots are θ′'s after exactly that many updates (the last equals the finished run's erased UNet
// from the same noise); AP runs add the word the adversary sampled at each recorded update; the collapse measure is 1
// for identical images and below 1 for different ones.
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using ConceptErasure.Pipelines;
using ConceptErasure.Tests.Audit;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class ImageTrajectoryTests
{
    static readonly SamplingOptions Sampling = new() { steps = 3 };

    [Fact]
    public void Draws_the_prompts_with_theta_prime_every_k_updates()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(4);
        var config = TinyModel.Config(ErasureConfig.Methods.Esd, "truck") with { iterations = 4 };
        using var trajectory = new ImageTrajectory(model, [("truck", "erased"), ("cat", "preserved")], every: 2, Sampling, images: 2, seed: 31);
        using var result = Eraser.Run(model, config, onIteration: trajectory.Record);
        Assert.Equal([0, 0, 2, 2, 4, 4], trajectory.Snapshots.Select(s => s.Update));
        Assert.Equal(["erased", "preserved"], trajectory.Snapshots.Take(2).Select(s => s.Role));
        var pipe = new StableDiffusionPipeline(model);
        Assert.True(trajectory.Snapshots[0].Images.allclose(QualityGate.Generate(pipe, model.Unet, "truck", 2, Sampling, 31), 1e-5, 1e-5), "update 0 is θ");
        using var erased = result.ErasedUnet(model);
        Assert.True(trajectory.Snapshots[4].Images.allclose(QualityGate.Generate(pipe, erased, "truck", 2, Sampling, 31), 1e-5, 1e-5), "the last snapshot is the erased model");
        Assert.False(trajectory.Snapshots[0].Images.allclose(trajectory.Snapshots[4].Images), "θ′ moved");

        using var judge = ConcealmentAuditTests.TinyJudge();
        var same = trajectory.Snapshots[0].Images;
        Assert.Equal(1.0, ImageMeasures.MeanPairwiseSimilarity(judge, [same, same.clone()]), 9);
        var cos = ImageMeasures.FeatureCosine(judge, same, trajectory.Snapshots[1].Images);
        Assert.Equal(2, cos.Length);
        Assert.All(cos, c => Assert.InRange(c, -1 - 1e-9, 1 + 1e-9));
        Assert.Equal(cos.Average(), ImageMeasures.MeanPairwiseSimilarity(judge, [same, trajectory.Snapshots[1].Images]), 12);
        Assert.Throws<ArgumentException>(() => ImageMeasures.MeanPairwiseSimilarity(judge, [same]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageTrajectory(model, [("truck", "erased")], every: 0, Sampling));
    }

    [Fact]
    public void Adversarial_runs_add_the_sampled_word_of_each_recorded_update()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(4);
        var config = TinyModel.Config(ErasureConfig.Methods.AdversarialPreservation, "truck") with { iterations = 2 };
        using var trajectory = new ImageTrajectory(model, [("truck", "erased")], every: 1, Sampling, template: w => w);
        using var result = Eraser.Run(model, config, onIteration: trajectory.Record);
        var words = trajectory.Snapshots.Where(s => s.Role == "adversary").ToList();
        Assert.Equal([1, 2], words.Select(w => w.Update));
        Assert.All(words, w => Assert.Equal("truck", w.Of));
        var sampled = result.History.Where(r => r.Phase == ErasureMethod.ThetaPhase).Select(r => r.Candidate).ToList();
        Assert.Equal(sampled, words.Select(w => (string?)w.Prompt));
    }
}
