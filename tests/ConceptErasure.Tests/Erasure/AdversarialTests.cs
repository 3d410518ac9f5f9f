// The adversary of Adversarial Preservation: candidate sets (K nearest, k-means thinning, exclusions), the Gumbel
// sample, the ascent on π finding the candidate whose preservation loss is largest, multi-concept erasure, and PGD.
using ConceptErasure.Erasure;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class AdversarialTests
{
    // ---- k-means thinning ---------------------------------------------------------------------------------------
    [Fact]
    public void KMeansKeepsOneValuePerClusterNearestItsCentre()
    {
        double[] values = [0.90, 0.10, 0.52, 0.12, 0.91, 0.50, 0.11, 0.92, 0.51];
        var kept = CandidateSearch.KMeansThin(values, 3);
        Assert.Equal([6, 8, 4], kept);                                      // 0.11, 0.51, 0.91: the middle of each cluster, in order
        Assert.Equal(kept, CandidateSearch.KMeansThin(values, 3));          // deterministic
        Assert.Equal(values.Length, CandidateSearch.KMeansThin(values, 20).Count);   // N ≥ K keeps every value
        Assert.Single(CandidateSearch.KMeansThin(values, 1));
        Assert.Equal([0, 2], CandidateSearch.KMeansThin([0.3, 0.3, 0.7], 3)); // equal values share a cluster: ≤ N kept
    }

    [Fact]
    public void KMeansSpreadsTheCandidatesOverTheRange()
    {
        var values = Enumerable.Range(0, 100).Select(i => Math.Pow(i / 99.0, 2)).ToArray();   // dense near 0
        var kept = CandidateSearch.KMeansThin(values, 5).Select(i => values[i]).ToList();
        Assert.Equal(5, kept.Count);
        Assert.True(kept[0] < 0.1 && kept[^1] > 0.7, $"kept {string.Join(", ", kept)}");
    }

    [Fact]
    public void CandidateSetsAreDeterministicAndExcludeTheErasedConcepts()
    {
        using var model = Create();
        var a = CandidateSearch.Find(model, "cat", Words, exclude: ["cat", "dog"], k: 12, n: 4);
        var b = CandidateSearch.Find(model, "cat", Words, exclude: ["dog"], k: 12, n: 4);   // c_e itself is always excluded
        Assert.Equal(a.Words, b.Words);
        Assert.InRange(a.Candidates.Count, 1, 4);
        Assert.Equal(12, a.Clustered);
        Assert.DoesNotContain("cat", a.Words);
        Assert.DoesNotContain("dog", a.Words);
        Assert.Equal(a.Candidates.Select(c => c.Distance).Order(), a.Candidates.Select(c => c.Distance));

        // the candidates are among the 12 nearest words by L2 between flattened text-encoder outputs
        var others = Words.Where(w => w is not ("cat" or "dog")).ToList();
        using var scope = NewDisposeScope();
        var d = CandidateSearch.Distances(CandidateSearch.Embed(model, others), model.Prompts.Encode("cat"));
        var nearest = others.Select((w, i) => (w, d: d[i])).OrderBy(x => x.d).Take(12).Select(x => x.w).ToHashSet();
        Assert.Subset(nearest, a.Words.ToHashSet());
        foreach (var c in a.Candidates) Assert.Equal(d[others.IndexOf(c.Word)], c.Distance, 6);
    }

    // ---- the Gumbel sample and the ascent ------------------------------------------------------------------------
    [Fact]
    public void HardGumbelAtLowTemperatureTakesTheLargestLogit()
    {
        using var scope = NewDisposeScope();
        using var g = Rng.Create(3);
        var logits = torch.tensor(new float[] { 0.1f, 0.2f, 25f, 0.3f }).requires_grad_();
        for (var i = 0; i < 20; i++)
        {
            var y = Functional.gumbel_softmax(logits, tau: 1e-3, hard: true, generator: g);
            Assert.Equal(new double[] { 0, 0, 1, 0 }, y.ToDoubles().Select(v => Math.Round(v, 6)));
        }
    }

    [Fact]
    public void AscentMovesPiToTheCandidateWithTheLargestPreservationLoss()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("adversarial_preservation", "cat") with { adversary_lr = 0.05, temperature = 1.0, loss_space = "epsilon" };
        using var m = (AdversarialPreservation)Eraser.Create(model, c.Validate(model));
        Perturb(m, scale: 0.2);
        var adversary = m.Adversaries[0];
        var n = adversary.Candidates.Candidates.Count;
        using var g = Rng.Create(11);
        // t_enc = N − 1: no DDIM step, so z_a is the start noise for every candidate and L2(c) can be listed exactly
        var draw = new ErasureDraw(0, c.ddim_steps - 1, 950, m.Pipeline.InitialNoise(1, g));
        var l2 = Enumerable.Range(0, n).Select(i =>
        {
            using var s = NewDisposeScope();
            var oneHot = nn.functional.one_hot(torch.tensor(new long[] { i }), n)[0].to(ScalarType.Float32);
            return m.AscentLoss(draw, oneHot).l2.ToDouble();
        }).ToArray();
        var best = Array.IndexOf(l2, l2.Max());
        Assert.True(l2.Distinct().Count() == n, "the candidates' losses should differ");

        for (var step = 0; step < 60; step++)
            using (NewDisposeScope()) Assert.True(m.Ascend(1, draw).Applied);

        var p = adversary.Probabilities();
        Assert.True(Array.IndexOf(p, p.Max()) == best,
            $"π = [{string.Join(", ", p.Select(x => x.ToString("F3")))}], L2 = [{string.Join(", ", l2.Select(x => x.ToString("E3")))}]");
        Assert.Equal(adversary.Word(best), adversary.Top().word);
    }

    [Fact]
    public void MultiConceptErasureKeepsOneAdversaryPerConcept()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("adversarial_preservation", "cat", "truck") with { inner_steps = 2, iterations = 4, ddim_steps = 5 };
        using var result = Eraser.Run(model, c);
        Assert.Equal(ErasureStatus.Completed, result.Status);
        Assert.Equal(4, result.IterationsDone);
        Assert.Equal(12, result.History.Count);                                        // 4 × (1 θ′ + 2 π)
        var adversaries = result.Manifest["method_facts"]!["adversaries"]!.AsObject();
        Assert.Equal(["cat", "truck"], adversaries.Select(kv => kv.Key));
        foreach (var (concept, facts) in adversaries)
        {
            var words = facts!["candidates"]!.AsArray().Select(x => (string)x!["word"]!).ToList();
            Assert.DoesNotContain("cat", words);
            Assert.DoesNotContain("truck", words);
            // π of a concept moved only if an ascent step drew that concept
            var probabilities = facts["candidates"]!.AsArray().Select(x => (double)x!["probability"]!).ToList();
            var ascended = result.History.Any(r => r.Phase == "pi" && r.Concept == concept && r.Applied);
            Assert.Equal(ascended, probabilities.Max() - probabilities.Min() > 1e-9);
        }
        Assert.All(result.History, r => Assert.Contains(r.Candidate, adversaries[r.Concept]!["candidates"]!.AsArray().Select(x => (string)x!["word"]!)));
    }

    [Theory]
    [InlineData(1, 0.01)]      // the defaults' adversary: π hardly moves, every predicted c_a holds
    [InlineData(2, 2.0)]       // a fast adversary with two inner steps: ascents change selections, rows are resampled
    public void BatchedAscentSamplingComputesTheSequentialLoop(int innerSteps, double adversaryLr)
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        // two concepts, a start noise every 3 draws (draws of one batch straddle a new z_T), a checkpoint-free run
        var c = Config("adversarial_preservation", "cat", "truck") with { inner_steps = innerSteps, adversary_lr = adversaryLr, iterations = 8, ddim_steps = 6, zt_reuse = 3 };
        using var sequential = Eraser.Run(model, c with { batch_ascent = false });
        using var batched = Eraser.Run(model, c with { batch_ascent = true });
        Assert.Equal(ErasureStatus.Completed, batched.Status);
        // the same rows in the same order: every draw, selection and candidate; losses up to float rounding
        Assert.Equal(8 * (1 + innerSteps), batched.History.Count);
        Assert.Equal(sequential.History.Select(r => (r.Step, r.Phase, r.Concept, r.TEnc, r.T, r.Candidate)),
            batched.History.Select(r => (r.Step, r.Phase, r.Concept, r.TEnc, r.T, r.Candidate)));
        foreach (var (a, b) in sequential.History.Zip(batched.History)) Close(a.Loss, b.Loss, rtol: 1e-4);
        foreach (var (k, t) in sequential.Trained) Assert.True(MeanSquare(t, batched.Trained[k]) < 1e-12, k);
        foreach (var concept in c.erase)
        {
            var pa = sequential.Manifest["method_facts"]!["adversaries"]![concept]!["candidates"]!.AsArray().Select(x => (double)x!["probability"]!);
            var pb = batched.Manifest["method_facts"]!["adversaries"]![concept]!["candidates"]!.AsArray().Select(x => (double)x!["probability"]!);
            foreach (var (x, y) in pa.Zip(pb)) Assert.True(Math.Abs(x - y) < 1e-4, $"π {x} vs {y}");   // Adam at lr 2 magnifies rounding
        }
        var facts = batched.Manifest["method_facts"]!["batched_sampling"]!;
        Assert.Equal(8 * (1 + innerSteps) - innerSteps, (long)facts["predicted"]!);   // all but the last update's ascents (Flush)
        if (adversaryLr > 1) Assert.True((long)facts["resampled"]! > 0, "the fast adversary should change some selection");
        else Assert.Equal(0L, (long)facts["resampled"]!);
    }

    [Fact]
    public void PgdMovesTheEmbeddingByTheNormalisedStep()
    {
        using var scope = NewDisposeScope();
        using var model = Create();
        var c = Config("adversarial_pgd", "cat") with { pgd_steps = 3, pgd_lr = 1e-2 };
        using var m = (AdversarialPgd)Eraser.Create(model, c.Validate(model));
        Assert.Equal(0.0, m.Drift(0));
        Perturb(m);
        var before = m.Embeddings[0].clone();
        var row = m.Ascend(1);
        Assert.True(row.Applied);
        // each step moves c_a by lr·‖c_a‖ along a unit direction: ‖Δ‖ ≤ 3·lr·‖c_a‖ (≈, the norm grows slowly)
        var moved = (m.Embeddings[0] - before).norm().ToDouble();
        Assert.InRange(moved, 0.5e-2 * before.norm().ToDouble(), 3.1e-2 * before.norm().ToDouble());
        Assert.Equal(moved / before.norm().ToDouble(), m.Drift(0), 5);
    }
}
