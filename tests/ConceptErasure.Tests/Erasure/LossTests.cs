// Each method's loss, for one fixed draw, against the same quantity computed by hand: z_t from direct DDIM calls of
// the pipeline, ε̂ from direct UNet calls converted with NoiseSchedule.Epsilon, and the mean square in float64 on
// the host. θ′ is perturbed first, so that a loss built from the wrong model (θ where θ′ belongs) would not match.
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class LossTests
{
    // ---- by-hand helpers: direct pipeline and UNet calls ------------------------------------------------------
    static Tensor HandLatent(FoundationModel model, UNet2DConditionModel sampler, ErasureConfig c, ErasureDraw d, Tensor context)
    {
        var pipe = new StableDiffusionPipeline(model);
        var options = new SamplingOptions { steps = c.ddim_steps, guidance_scale = c.guidance };
        // the latents must sit in t's DDIM cell: after N − 1 − t_enc steps, at grid timestep w·t_enc + 1
        var steps = c.ddim_steps - 1 - d.TEnc;
        Assert.Equal(model.Schedule.TrainSteps / c.ddim_steps * d.TEnc + 1, pipe.TimestepAfter(steps, c.ddim_steps));
        return pipe.Denoise(sampler, d.Noise, context, model.Prompts.Encode(""), options, 0, steps);
    }

    static Tensor HandEpsilon(FoundationModel model, UNet2DConditionModel unet, Tensor z, int t, Tensor context)
    {
        using var _ = no_grad();
        var ts = torch.tensor(new long[] { t });
        return model.Schedule.Epsilon(model.Prediction, unet.forward(z, ts, context), z, ts);
    }

    /// <summary>mean((a − b)²) in the configured space; in x₀-space both are first mapped to
    /// x̂₀ = (z − √(1−ᾱ_t) ε)/√ᾱ_t, in float64.</summary>
    static double HandDistance(FoundationModel model, ErasureConfig c, int t, Tensor z, Tensor a, Tensor b)
    {
        if (c.loss_space == ErasureConfig.Spaces.Epsilon) return MeanSquare(a, b);
        var alpha = model.Schedule.AlphasCumprod[t];
        var (zs, x, y) = (z.ToDoubles(), a.ToDoubles(), b.ToDoubles());
        double s = 0;
        for (var i = 0; i < zs.Length; i++)
        {
            var x0a = (zs[i] - Math.Sqrt(1 - alpha) * x[i]) / Math.Sqrt(alpha);
            var x0b = (zs[i] - Math.Sqrt(1 - alpha) * y[i]) / Math.Sqrt(alpha);
            s += (x0a - x0b) * (x0a - x0b);
        }
        return s / zs.Length;
    }

    static ErasureDraw FixedDraw(FoundationModel model, int concept, int tEnc, int t, ulong seed = 5)
    {
        using var g = Rng.Create(seed);
        return new ErasureDraw(concept, tEnc, t, new StableDiffusionPipeline(model).InitialNoise(1, g));
    }

    /// <summary>L1 by hand: ‖ε_θ′(z_t, c_e) − [ε_θ(z_t, c_n) − η(ε_θ(z_t, c_e) − ε_θ(z_t, c_n))]‖².</summary>
    static double HandL1(FoundationModel model, ErasureMethod m, ErasureConfig c, ErasureDraw d, Tensor zt)
    {
        var ce = model.Prompts.Encode(c.erase[d.Concept]);
        var trained = HandEpsilon(model, m.Trainable, zt, d.T, ce);
        var eN = HandEpsilon(model, model.Unet, zt, d.T, model.Prompts.Encode(c.targets?[d.Concept] ?? c.neutral));
        var eE = HandEpsilon(model, model.Unet, zt, d.T, ce);
        var target = eN - (eE - eN) * c.EffectiveEta;
        return HandDistance(model, c, d.T, zt, trained, target);
    }

    // ---- tests ------------------------------------------------------------------------------------------------
    [Theory]
    [InlineData("esd", "epsilon", "trainable", "v_prediction")]
    [InlineData("esd", "x0", "trainable", "v_prediction")]
    [InlineData("naive", "epsilon", "trainable", "v_prediction")]
    [InlineData("esd", "epsilon", "frozen", "v_prediction")]
    [InlineData("esd", "x0", "trainable", "epsilon")]
    public void ErasureLossMatchesHandComputation(string method, string space, string sampler, string prediction)
    {
        using var scope = NewDisposeScope();
        using var model = Create(prediction: prediction);
        var c = Config(method, "cat") with { loss_space = space, sampler = sampler, eta = 1.5 };
        using var m = (Esd)Eraser.Create(model, c.Validate(model));
        Perturb(m);
        var d = FixedDraw(model, 0, tEnc: 4, t: 437);

        var (zt, l1) = m.Losses(d);

        var hz = HandLatent(model, sampler == "frozen" ? model.Unet : m.Trainable, c, d, model.Prompts.Encode("cat"));
        Assert.True(torch.allclose(hz, zt, 1e-6, 1e-6), "z_t differs from direct DDIM sampling");
        Close(HandL1(model, m, c, d, hz), l1.ToDouble());
    }

    [Fact]
    public void Each_erased_concept_is_pulled_to_its_own_target_when_targets_are_given()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("esd", "cat", "truck") with { targets = ["dog", "bus"] };
        using var m = (Esd)Eraser.Create(model, c.Validate(model));
        Perturb(m);
        Assert.Equal("bus", c.TargetOf("truck"));
        Assert.Equal("", (c with { targets = null }).TargetOf("truck"));
        for (var concept = 0; concept < 2; concept++)
        {
            var d = FixedDraw(model, concept, tEnc: 4, t: 437);
            var (zt, l1) = m.Losses(d);
            Close(HandL1(model, m, c, d, zt), l1.ToDouble());
            // and not to "": the same draw under the shared target gives another loss
            Assert.NotEqual(HandL1(model, m, c with { targets = null }, d, zt), l1.ToDouble(), 6);
        }
        var bad = Assert.Throws<ErasureConfigException>(() => (Config("esd", "cat", "truck") with { targets = ["dog"] }).Validate(model));
        Assert.Contains(bad.Problems, p => p.Contains("1 prompts for 2 erased concepts"));
        bad = Assert.Throws<ErasureConfigException>(() => (Config("esd", "cat", "truck") with { targets = ["truck", "dog"] }).Validate(model));
        Assert.Contains(bad.Problems, p => p.Contains("target 'truck' is also to be erased"));
        bad = Assert.Throws<ErasureConfigException>(() => (Config("esd", "cat", "truck") with { targets = ["dgo", "dog"] }).Validate(model));
        Assert.Contains(bad.Problems, p => p.Contains("target 'dgo'"));
        Assert.Equal(["dog", "bus"], ErasureConfig.FromJson(c.ToJson()).targets);
    }

    [Theory]
    [InlineData("frozen")]
    [InlineData("trainable")]
    public void ReusedTrajectoriesAreContinuedNotResampled(string sampler)
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("esd", "truck", "car") with { zt_reuse = 3, sampler = sampler };
        using var m = Eraser.Create(model, c.Validate(model));
        var draws = Enumerable.Range(0, 6).Select(_ => m.Draw()).ToList();
        // 1. z_T is shared by draws 0–2 and redrawn for 3–5
        Assert.True(torch.allclose(draws[0].Noise, draws[2].Noise, 0, 0));
        Assert.False(torch.allclose(draws[2].Noise, draws[3].Noise, 0, 0));
        // 2. every draw's latents equal direct DDIM from its z_T, whatever was cached before (shallower or deeper),
        //    and a row pair with one prompt twice gets the same latents twice
        var sampledBy = sampler == "frozen" ? model.Unet : m.Trainable;
        foreach (var d in new[] { draws[0] with { TEnc = 8 }, draws[1] with { TEnc = 2 }, draws[2] with { TEnc = 5 }, draws[3] with { TEnc = 1 } })
        {
            var context = model.Prompts.Encode(c.erase[d.Concept]);
            var z = m.SampleLatents(d, torch.cat([context, context, model.Prompts.Encode("road")]));
            var hand = HandLatent(model, sampledBy, c, d, context);
            Assert.True(torch.allclose(hand, z.narrow(0, 0, 1), 1e-5, 1e-5), $"t_enc {d.TEnc}: reused trajectory differs from direct sampling");
            Assert.True(torch.allclose(z.narrow(0, 0, 1), z.narrow(0, 1, 1), 0, 0));
            Assert.True(torch.allclose(HandLatent(model, sampledBy, c, d, model.Prompts.Encode("road")), z.narrow(0, 2, 1), 1e-5, 1e-5));
        }
    }

    [Fact]
    public void FixedPreservationLossMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("fixed_preservation", "truck") with { preserve = ["road", "car", "a photo"], loss_space = "epsilon" };
        using var m = (FixedPreservation)Eraser.Create(model, c.Validate(model));
        Perturb(m);
        var d = FixedDraw(model, 0, tEnc: 7, t: 712);

        var (zt, l1, l2) = m.Losses(d);

        var hz = HandLatent(model, m.Trainable, c, d, model.Prompts.Encode("truck"));
        Close(HandL1(model, m, c, d, hz), l1.ToDouble());
        // L2 = mean over c_p of ‖ε_θ′(z_t, c_p) − ε_θ(z_t, c_p)‖² (equal-sized terms, so the mean of the means)
        var expected = c.preserve.Average(p =>
        {
            var cp = model.Prompts.Encode(p);
            return HandDistance(model, c, d.T, hz, HandEpsilon(model, m.Trainable, hz, d.T, cp), HandEpsilon(model, model.Unet, hz, d.T, cp));
        });
        Close(expected, l2.ToDouble());
    }

    [Fact]
    public void ParameterRegularisationIsTheSquaredDistanceOfTheTrainedGroup()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("parameter_regularisation", "cat") with { parameters = "noxattn" };
        using var m = (ParameterRegularisation)Eraser.Create(model, c.Validate(model));
        Assert.Equal(0.0, m.Distance().ToDouble());
        Perturb(m, scale: 0.01);
        var original = model.Unet.state_dict();
        double expected = 0;
        foreach (var (name, p) in m.TrainedParameters)
        {
            var a = p.ToDoubles();
            var b = original[name].ToDoubles();
            for (var i = 0; i < a.Length; i++) expected += (a[i] - b[i]) * (a[i] - b[i]);
        }
        Close(expected, m.Distance().ToDouble());
        var d = FixedDraw(model, 0, tEnc: 2, t: 215);
        var (zt, l1, _) = m.Losses(d);
        Close(HandL1(model, m, c, d, zt), l1.ToDouble());
    }

    [Theory]
    [InlineData("epsilon")]
    [InlineData("x0")]
    public void AdversarialPreservationLossesMatchHandComputation(string space)
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("adversarial_preservation", "cat") with { loss_space = space };
        using var m = (AdversarialPreservation)Eraser.Create(model, c.Validate(model));
        Perturb(m);
        var d = FixedDraw(model, 0, tEnc: 5, t: 555);
        var adversary = m.Adversaries[0];
        const int pick = 2;
        var oneHot = nn.functional.one_hot(torch.tensor(new long[] { pick }), adversary.Candidates.Candidates.Count)[0].to(ScalarType.Float32);

        var (zt, za, l1, l2) = m.Losses(d, oneHot);

        // z_t under c_e and z_a under the picked candidate's own prompt, from the same start noise
        var word = adversary.Word(pick);
        var ca = model.Prompts.Encode(word);
        var hz = HandLatent(model, m.Trainable, c, d, model.Prompts.Encode("cat"));
        var hza = HandLatent(model, m.Trainable, c, d, ca);
        Assert.True(torch.allclose(hz, zt, 1e-5, 1e-6) && torch.allclose(hza, za, 1e-5, 1e-6), "z_t or z_a differs from direct DDIM sampling");
        Close(HandL1(model, m, c, d, hz), l1.ToDouble());
        Close(HandDistance(model, c, d.T, hza, HandEpsilon(model, m.Trainable, hza, d.T, ca), HandEpsilon(model, model.Unet, hza, d.T, ca)), l2.ToDouble());

        // the ascent's L2 is the same quantity, differentiable in π
        var (_, l2Ascent) = m.AscentLoss(d, oneHot);
        Close(l2.ToDouble(), l2Ascent.ToDouble());
    }

    [Fact]
    public void PgdLossesMatchHandComputation()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("adversarial_pgd", "dog") with { loss_space = "x0" };
        using var m = (AdversarialPgd)Eraser.Create(model, c.Validate(model));
        Perturb(m);
        var d = FixedDraw(model, 0, tEnc: 8, t: 801);

        var (zt, l1, l2) = m.Losses(d);

        var hz = HandLatent(model, m.Trainable, c, d, model.Prompts.Encode("dog"));
        Close(HandL1(model, m, c, d, hz), l1.ToDouble());
        // c_a starts at τ(c_e); L2 is taken at the same z_t
        var ce = model.Prompts.Encode("dog");
        Close(HandDistance(model, c, d.T, hz, HandEpsilon(model, m.Trainable, hz, d.T, ce), HandEpsilon(model, model.Unet, hz, d.T, ce)), l2.ToDouble());
    }

    [Fact]
    public void DrawsStayInsideTheirDdimCell()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("esd", "cat", "dog") with { ddim_steps = 50 };
        using var m = Eraser.Create(model, c.Validate(model));
        var seen = new HashSet<int>();
        for (var i = 0; i < 200; i++)
        {
            var d = m.Draw();
            Assert.InRange(d.Concept, 0, 1);
            Assert.InRange(d.TEnc, 0, 49);
            Assert.InRange(d.T, 20 * d.TEnc, 20 * d.TEnc + 19);     // t ~ U[⌊1000·t_enc/50⌋, +20)
            Assert.Equal(new long[] { 1, 4, 4, 4 }, d.Noise.shape);
            seen.Add(d.Concept);
        }
        Assert.Equal(2, seen.Count);
    }
}
