// One prompt's audit (Audit/ConcealmentAudit.cs) on a tiny model and a tiny judge: a model audited against itself
// gives two identical reference sets, so the classifier cannot separate them and no score is reported (the audit
// says so instead of scoring); against a perturbed copy every ψ point is measured, CRS/CCS are the means over the
// interior points computed from those very points, and the two ends are drawn but not averaged; options whose attack
// would redraw the references' noise, or whose grid has no interior point, are refused.
using ConceptErasure.Audit;
using ConceptErasure.Evaluation;
using ConceptErasure.Pipelines;
using ConceptErasure.Tests.Erasure;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Audit;

public class ConcealmentAuditTests
{
    internal static ConceptJudge TinyJudge()
    {
        var judge = new ConceptJudge(new ConceptJudgeConfig { channels = [8, 8, 8], concepts = TinyModel.Words, styles = ["twitter", "google"] });
        using (var g = ConceptErasure.Engine.Rng.Create(77)) TinyModel.Initialise(judge, g);   // not libtorch's global generator: the same judge in every run
        judge.eval();
        return judge;
    }

    static readonly ConcealmentAuditOptions Fast = new()
    {
        attack = new PartialDiffusionOptions { psi = [0, 0.25, 0.5, 1], sampling = new SamplingOptions { steps = 4 }, seed = 500 },
        attack_images = 3, reference_images = 20, reference_seed = 100, template = "{concept}",
        classifier = new ConceptClassifierOptions { epochs = 400, lr = 1e-2 },
    };

    [Fact]
    public void A_model_audited_against_itself_cannot_be_scored()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(5);
        using var judge = TinyJudge();
        var a = ConcealmentAudit.Run(new StableDiffusionPipeline(model), model.Unet, model.Unet, judge, "dog", PromptRole.Forget, Fast);
        Assert.False(a.Fit.Separates);
        Assert.Null(a.Crs);
        Assert.Null(a.Ccs);
        Assert.Equal(4, a.Points.Count);
        Assert.All(a.Points, p => Assert.True(double.IsNaN(p.POriginal)));
        Assert.Equal(a.ReferenceJudgeTop1Original, a.ReferenceJudgeTop1Erased);
    }

    [Fact]
    public void Scores_are_the_means_over_the_interior_grid_points()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(5);
        // the "erased" UNet: a copy whose output layer is replaced by a constant, so its images differ visibly and the
        // sides are easy to tell apart
        var erased = model.Unet.Clone();
        using (no_grad()) { erased.conv_out.weight!.zero_(); erased.conv_out.bias!.fill_(3); }
        using var judge = TinyJudge();
        var seen = new List<double>();
        var a = ConcealmentAudit.Run(new StableDiffusionPipeline(model), model.Unet, erased, judge, "dog", PromptRole.Retain, Fast,
            (psi, images) => { using (images) { seen.Add(psi); Assert.Equal(3, images.size(0)); } });
        Assert.Equal(Fast.attack.psi, seen);
        Assert.True(a.Fit.Separates, $"held-out accuracy {a.Fit.HeldOutAccuracy}");
        Assert.Equal([false, true, true, false], a.Points.Select(p => p.Scored));
        Assert.Equal([0, 1, 2, 4], a.Points.Select(p => p.HandOverStep));
        var inner = a.Points.Where(p => p.Scored).ToList();
        Assert.Equal(inner.Average(p => p.POriginal), a.Ccs!.Value, 12);
        Assert.Equal(1 - inner.Average(p => Math.Abs(p.SErased - p.SOriginal)), a.Crs!.Value, 12);   // retain: 1 − mean
        Assert.All(a.Points, p => Assert.InRange(p.POriginal, 0, 1));
        // at ψ = 1 the attack images are the original model's (other seeds than λ_O): the classifier calls them original
        Assert.True(a.Points[^1].POriginal > a.Points[0].POriginal, $"P(original) {a.Points[0].POriginal} at ψ = 0, {a.Points[^1].POriginal} at ψ = 1");
    }

    [Fact]
    public void The_original_only_cache_and_shared_hand_over_steps_change_no_number()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(5);
        var erased = model.Unet.Clone();
        using (no_grad()) erased.conv_out.bias!.add_(1.5);
        using var judge = TinyJudge();
        var pipe = new StableDiffusionPipeline(model);
        // ψ = 0.1 rounds to k = 0 at 4 steps: the same images as ψ = 0
        var o = Fast with { attack = Fast.attack with { psi = [0, 0.1, 0.5, 1] } };
        var plain = ConcealmentAudit.Run(pipe, model.Unet, erased, judge, "dog", PromptRole.Forget, o);
        using var cache = new OriginalCache();
        var first = ConcealmentAudit.Run(pipe, model.Unet, erased, judge, "dog", PromptRole.Forget, o, cache: cache);
        var second = ConcealmentAudit.Run(pipe, model.Unet, erased, judge, "dog", PromptRole.Forget, o, cache: cache);
        foreach (var a in new[] { first, second })
        {
            Assert.Equal(plain.Points, a.Points);
            Assert.Equal((plain.Crs, plain.Ccs, plain.Fit), (a.Crs, a.Ccs, a.Fit));
        }
        Assert.Equal(plain.Points[0] with { Psi = 0.1, EffectivePsi = 0, Scored = true }, plain.Points[1]);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => (Fast with { reference_seed = 498 }).Validate());   // [498, 508) overlaps [500, 503)
        Assert.Throws<ArgumentException>(() => (Fast with { attack = Fast.attack with { psi = [0, 1] } }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Fast with { attack = Fast.attack with { psi = [0, 0.5, 1.2] } }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Fast with { attack_images = 1 }).Validate());
        Assert.Throws<ArgumentException>(() => (Fast with { template = "an emoji" }).Validate());
    }
}
