// The adversary's diagnostics: π's perplexity, the L2 ratio to a control run (paired when the draws match), and
// reading a saved AP run folder back without its weights.
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class AdversaryDiagnosticsTests
{
    static AdversaryRun Run(string name, IEnumerable<(int t, double l2)> ascents) => new(name, new ErasureConfig(),
        ascents.Select((x, i) => new ErasureStep(i + 1, AdversarialPreservation.AscentPhase, "cat", 3, x.t, null, x.l2, x.l2, true)).ToList(),
        new Dictionary<string, (string[], double[])>(), null, null, 1, null);

    [Fact]
    public void PerplexityCountsTheCandidatesPiSpreadsOver()
    {
        Assert.Equal(100, AdversaryDiagnostics.Perplexity(Enumerable.Repeat(0.01, 100).ToArray()), 9);
        Assert.Equal(1, AdversaryDiagnostics.Perplexity([0, 1, 0]), 12);
        Assert.Equal(2, AdversaryDiagnostics.Perplexity([0.5, 0, 0.5, 0]), 12);
    }

    [Fact]
    public void L2RatioPairsRowsWhenTheDrawsMatch()
    {
        double[] control = [1, 4, 2, 8, 0.5, 3];
        var same = Run("control", control.Select((l, i) => (100 + i, l)));
        var doubled = Run("run", control.Select((l, i) => (100 + i, 2 * l)));
        var paired = AdversaryDiagnostics.L2Ratio(doubled, same);
        Assert.True(AdversaryDiagnostics.SameDraws(doubled, same));
        Assert.Equal(2, paired.Mean, 12);
        Assert.Equal(2, paired.Low95, 12);                 // every paired resample has the ratio 2 exactly
        Assert.Equal(2, paired.High95, 12);

        var shifted = Run("other draws", control.Select((l, i) => (200 + i, 2 * l)));
        var unpaired = AdversaryDiagnostics.L2Ratio(shifted, same);
        Assert.False(AdversaryDiagnostics.SameDraws(shifted, same));
        Assert.Equal(2, unpaired.Mean, 12);
        Assert.True(unpaired.Low95 < 1.5 && unpaired.High95 > 2.5, $"[{unpaired.Low95}, {unpaired.High95}]");   // resampled apart: wide
        Assert.Throws<ArgumentException>(() => AdversaryDiagnostics.L2Ratio(same, same, ErasureMethod.ThetaPhase));
    }

    [Fact]
    public void ASavedRunReadsBackWithItsFinalPi()
    {
        using var model = Create();
        var folder = Path.Combine(Path.GetTempPath(), "adversary-run-" + Guid.NewGuid().ToString("N"));
        var esd = folder + "-esd";
        try
        {
            var c = Config("adversarial_preservation", "cat") with { iterations = 3, ddim_steps = 5, adversary_lr = 0.5 };
            using (var result = Eraser.Run(model, c)) result.ThrowIfIncomplete().Save(folder);
            File.Delete(Path.Combine(folder, ErasureResult.DeltaFile));                   // the diagnostics need no weights
            var run = AdversaryRun.Load(folder);
            Assert.Equal(Path.GetFileName(folder), run.Name);
            Assert.Equal(6, run.History.Count);
            Assert.Equal(3, run.L2(AdversarialPreservation.AscentPhase).Count);
            var (words, p) = run.Pi["cat"];
            Assert.Equal(1, p.Sum(), 5);
            Assert.InRange(run.Perplexity, 1, words.Length);
            Assert.Equal(p.Max(), run.TopProbability, 12);
            Assert.Equal(run.History[^1].TopCandidate, run.TopWords["cat"].word);       // the last row's argmax π is the final one
            Assert.Null(run.After);                                                      // no evaluation.json in this folder

            using (var result = Eraser.Run(model, Config("esd", "cat") with { iterations = 1, ddim_steps = 5 })) result.Save(esd);
            Assert.Contains("not adversarial_preservation", Assert.Throws<InvalidDataException>(() => AdversaryRun.Load(esd)).Message);
        }
        finally
        {
            foreach (var d in new[] { folder, esd }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
