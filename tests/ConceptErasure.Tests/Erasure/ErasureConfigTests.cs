// Bad input is refused before any work, in one message: unknown concepts with the closest known ones, unknown
// names, out-of-range hyper-parameters, N > K, missing inputs of a method.
using ConceptErasure.Erasure;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class ErasureConfigTests
{
    [Fact]
    public void UnknownConceptIsRefusedWithTheClosestKnownConcepts()
    {
        using var model = Create();
        var e = Assert.Throws<ErasureConfigException>(() => Config("esd", "catt").Validate(model));
        Assert.Contains("'catt'", e.Message);
        Assert.Contains("closest known: 'cat'", e.Message);
    }

    [Fact]
    public void KnownConceptsRestrictWhatMayBeErased()
    {
        using var model = Create();
        var e = Assert.Throws<ErasureConfigException>(() => Config("esd", "bus").Validate(model, knownConcepts: ["cat", "dog", "buses"]));
        Assert.Contains("'bus' is not a known concept", e.Message);
        Assert.Contains("closest known: 'buses'", e.Message);   // by edit distance
    }

    [Fact]
    public void EveryBadHyperParameterIsListedInOneMessage()
    {
        using var model = Create();
        var c = Config("adversarial_preservation", "cat") with { lr = -1e-5, iterations = 0, top_k = 5, candidates = 10, temperature = 0 };
        var e = Assert.Throws<ErasureConfigException>(() => c.Validate(model));
        Assert.Equal(4, e.Problems.Count);
        Assert.Contains("lr must be a finite number > 0, got -1E-05", e.Message);
        Assert.Contains("iterations must be ≥ 1", e.Message);
        Assert.Contains("candidates N = 10 > top_k K = 5", e.Message);
        Assert.Contains("temperature", e.Message);
        Assert.StartsWith("the erasure config has 4 problems:", e.Message);
    }

    [Fact]
    public void UnknownNamesAreRefusedWithSuggestions()
    {
        var c = Config("adversarial_preservaton", "cat") with { parameters = "xatn", loss_space = "eps" };
        var problems = c.HyperParameterProblems();
        Assert.Contains(problems, p => p.Contains("method 'adversarial_preservaton'") && p.Contains("'adversarial_preservation'"));
        Assert.Contains(problems, p => p.Contains("parameters 'xatn'") && p.Contains("'xattn'"));
        Assert.Contains(problems, p => p.StartsWith("loss_space 'eps'"));
    }

    [Fact]
    public void MethodsRefuseMissingInputs()
    {
        using var model = Create();
        Assert.Contains("fixed_preservation needs at least one prompt", Assert.Throws<ErasureConfigException>(
            () => Config("fixed_preservation", "cat").Validate(model)).Message);
        Assert.Contains("needs a vocabulary R", Assert.Throws<ErasureConfigException>(
            () => (Config("adversarial_preservation", "cat") with { vocabulary = null }).Validate(model)).Message);
        Assert.Contains("both erased and preserved", Assert.Throws<ErasureConfigException>(
            () => (Config("fixed_preservation", "cat") with { preserve = ["cat"] }).Validate(model)).Message);
        Assert.Contains("vocabulary words are unknown", Assert.Throws<ErasureConfigException>(
            () => (Config("adversarial_preservation", "cat") with { vocabulary = ["dog", "zebra"] }).Validate(model)).Message);
        Assert.Empty(Config("esd", "cat").Problems(model));
    }

    [Fact]
    public void RunRefusesBeforeAnyWork()
    {
        using var model = Create();
        var before = Snapshot(model.Unet);
        var called = false;
        Assert.Throws<ErasureConfigException>(() => Eraser.Run(model, Config("esd", "catt"), onIteration: (_, _) => called = true));
        Assert.False(called);
        Assert.Equal(before, Snapshot(model.Unet));
    }

    [Fact]
    public void JsonRoundTripsAndRefusesUnknownKeys()
    {
        var c = new ErasureConfig { erase = ["cat", "dog"], preserve = [""], lambda = 0.5, zt_reuse = 3, method = "fixed_preservation" };
        var json = c.ToJson();
        Assert.DoesNotContain("Effective", json);                         // derived values are not config keys
        Assert.Equal(json, ErasureConfig.FromJson(json).ToJson());
        var e = Assert.Throws<ErasureConfigException>(() => ErasureConfig.FromJson("""{ "iterations": 5, "learning_rate": 0.1 }""", "my.json"));
        Assert.Contains("my.json", e.Message);
        Assert.Contains("learning_rate", e.Message);
        Assert.Equal(5, ErasureConfig.FromJson("""{ "iterations": 5 }""").iterations);   // the rest keeps its defaults
    }

    [Fact]
    public void MethodDefaultsFollowTheReleasedScriptsExceptTheTunedSchedule()
    {
        var c = new ErasureConfig { erase = ["cat"] };
        Assert.Equal("adversarial_preservation", c.method);
        Assert.Equal(1.0, c.EffectiveLambda);
        Assert.Equal((1000, 100, 2.0, 1e-2, 3.0, 50), (c.top_k, c.candidates, c.temperature, c.adversary_lr, c.guidance, c.ddim_steps));
        Assert.Equal((100, 1e-4, 10), (c.iterations, c.lr, c.zt_reuse));   // tuned here on the tuning split (the paper: 1000 at 1e-5)
        Assert.Equal(0.01, (c with { method = "adversarial_pgd" }).EffectiveLambda);
        Assert.Equal(0.0, (c with { method = "naive" }).EffectiveEta);
        Assert.Equal(0.0, (c with { method = "esd" }).EffectiveLambda);
    }
}
