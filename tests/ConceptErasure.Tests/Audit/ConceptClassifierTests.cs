// The original-vs-erased classifier (Audit/ConceptClassifier.cs) on synthetic judge features: two well-separated
// clouds are told apart on the held-out 20 % and its P(original) follows the side; two draws of one cloud are not
// (held-out accuracy near chance, so the audit would refuse to score); φ has the configured width; training is
// deterministic for a seed; too few images and bad options are refused.
using ConceptErasure.Audit;

namespace ConceptErasure.Tests.Audit;

public class ConceptClassifierTests
{
    const int D = 12;

    static float[] Cloud(int n, float shift, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * D];
        for (var i = 0; i < x.Length; i++)
        {
            // Box–Muller normal draws; the shift moves the first three features only
            var g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            x[i] = (float)g + (i % D < 3 ? shift : 0);
        }
        return x;
    }

    static readonly ConceptClassifierOptions Fast = new() { epochs = 150 };

    [Fact]
    public void Separable_sides_are_told_apart_on_held_out_images()
    {
        var (model, fit) = ConceptClassifier.Train(Cloud(40, 2.5f, 1), Cloud(40, -2.5f, 2), D, Fast);
        Assert.Equal(16, fit.HeldOutCount);
        Assert.True(fit.HeldOutAccuracy >= 0.9, $"held-out accuracy {fit.HeldOutAccuracy}");
        Assert.True(fit.Separates);
        Assert.True(model.POriginal(Cloud(20, 2.5f, 3)).Average() > 0.8);
        Assert.True(model.POriginal(Cloud(20, -2.5f, 4)).Average() < 0.2);
        Assert.Equal(20 * Fast.embedding, model.Embed(Cloud(20, 0, 5)).Length);
    }

    [Fact]
    public void Indistinguishable_sides_do_not_pass_the_accuracy_bar()
    {
        // same distribution on both sides: held-out accuracy is chance; over several seeds it must stay below the bar
        var accuracies = Enumerable.Range(0, 4).Select(s =>
            ConceptClassifier.Train(Cloud(40, 0, 10 + s), Cloud(40, 0, 20 + s), D, Fast with { seed = s }).fit.HeldOutAccuracy).ToArray();
        Assert.True(accuracies.Average() < Fast.min_accuracy, $"held-out accuracies {string.Join(", ", accuracies)}");
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var (a, fa) = ConceptClassifier.Train(Cloud(20, 1, 1), Cloud(20, -1, 2), D, Fast);
        var (b, fb) = ConceptClassifier.Train(Cloud(20, 1, 1), Cloud(20, -1, 2), D, Fast);
        Assert.Equal(fa, fb);
        Assert.Equal(a.POriginal(Cloud(5, 0, 9)), b.POriginal(Cloud(5, 0, 9)));
    }

    [Fact]
    public void Too_few_images_and_bad_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ConceptClassifier.Train(Cloud(4, 1, 1), Cloud(20, -1, 2), D, Fast));
        Assert.Throws<ArgumentException>(() => ConceptClassifier.Train(Cloud(20, 1, 1).Take(20 * D - 1).ToArray(), Cloud(20, -1, 2), D, Fast));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConceptClassifier.Train(Cloud(20, 1, 1), Cloud(20, -1, 2), D, Fast with { holdout = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConceptClassifierOptions { min_accuracy = 0.4 }.Validate());
        var (model, _) = ConceptClassifier.Train(Cloud(20, 1, 1), Cloud(20, -1, 2), D, Fast);
        Assert.Throws<ArgumentException>(() => model.POriginal(new float[D + 1]));
    }
}
