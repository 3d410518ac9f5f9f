// AdversaryDiagnostics.cs — is the adversary of Adversarial Preservation doing its job? (Bui et al., NeurIPS 2024, Eq. 5:
// max over π of λ‖ε_θ′(G(π)·R) − ε_θ(G(π)·R)‖²). Three measures of one run, read from what `workbook erase` writes
// (manifest.json, history.csv, evaluation.json; no weights needed):
//   • concentration: how far the final π moved from uniform — its top probability and its perplexity exp H(π)
//     (N for a uniform π over N candidates, 1 for a point mass);
//   • the loss it finds: the mean L2 of the candidates it sampled, as a ratio to a control run whose π never moved
//     (adversary_lr 0: every draw — concept, t, noise, Gumbel noise — the same, so the rows pair one to one);
//   • what it buys: ESR/PSR of the erased model (ErasureEvaluation.cs) and the run's cost.
// Used by notebook 04 on data/results/tuning/ablation.
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Erasure;

namespace ConceptErasure.Evaluation;

/// <summary>One finished AP run folder: its config, history, final π per erased concept, scores and cost.</summary>
public sealed record AdversaryRun(string Name, ErasureConfig Config, IReadOnlyList<ErasureStep> History,
    IReadOnlyDictionary<string, (string[] words, double[] probabilities)> Pi, ErasureScores? Before, ErasureScores? After,
    double LoopSeconds, double? PeakRssMib)
{
    /// <summary>Reads a run folder of `workbook erase --method adversarial_preservation` (the weights are not needed).</summary>
    public static AdversaryRun Load(string folder, string? name = null)
    {
        var manifestPath = Path.Combine(folder, ErasureResult.ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{folder} holds no erasure run (no {ErasureResult.ManifestFile})", manifestPath);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        if ((string?)manifest["status"] != nameof(ErasureStatus.Completed))
            throw new InvalidDataException($"{folder}: the run did not complete (status {(string?)manifest["status"]})");
        var config = manifest["config"].Deserialize<ErasureConfig>()!;
        if (config.method != ErasureConfig.Methods.AdversarialPreservation)
            throw new InvalidDataException($"{folder}: a {config.method} run, not adversarial_preservation");
        var pi = manifest["method_facts"]!["adversaries"]!.AsObject().ToDictionary(kv => kv.Key, kv =>
        {
            var c = kv.Value!["candidates"]!.AsArray();
            return (c.Select(x => (string)x!["word"]!).ToArray(), c.Select(x => (double)x!["probability"]!).ToArray());
        });
        ErasureScores? before = null, after = null;
        var evaluation = Path.Combine(folder, "evaluation.json");
        if (File.Exists(evaluation))
        {
            var e = JsonNode.Parse(File.ReadAllText(evaluation))!;
            before = e["before"].Deserialize<ErasureScores>();
            after = e["after"].Deserialize<ErasureScores>();
        }
        var history = ErasureResult.ParseHistory(File.ReadAllText(Path.Combine(folder, ErasureResult.HistoryFile)));
        return new AdversaryRun(name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), config, history, pi, before, after,
            (double)manifest["timing"]!["loop_seconds"]!, (double?)manifest["memory"]?["peak_rss_mib"]);
    }

    /// <summary>The final π's top probability, averaged over the erased concepts.</summary>
    public double TopProbability => Pi.Values.Average(p => p.probabilities.Max());

    /// <summary>exp H(π), averaged over the erased concepts (N = uniform, 1 = one candidate).</summary>
    public double Perplexity => Pi.Values.Average(p => AdversaryDiagnostics.Perplexity(p.probabilities));

    /// <summary>The most probable candidate of each erased concept at the end, with its probability.</summary>
    public IReadOnlyDictionary<string, (string word, double probability)> TopWords => Pi.ToDictionary(kv => kv.Key, kv =>
    {
        var i = Array.IndexOf(kv.Value.probabilities, kv.Value.probabilities.Max());
        return (kv.Value.words[i], kv.Value.probabilities[i]);
    });

    /// <summary>L2 of the rows of one phase (θ′ or the ascent "pi"), in history order.</summary>
    public IReadOnlyList<double> L2(string phase) => History.Where(r => r.Phase == phase && r.L2 is not null).Select(r => r.L2!.Value).ToList();
}

public static class AdversaryDiagnostics
{
    /// <summary>exp(−Σ p log p).</summary>
    public static double Perplexity(IReadOnlyList<double> p) => Math.Exp(-p.Where(x => x > 0).Sum(x => x * Math.Log(x)));

    /// <summary>Whether two runs made the same draws row by row (step, phase, concept, t_enc, t): then their L2 pair.</summary>
    public static bool SameDraws(AdversaryRun a, AdversaryRun b) =>
        a.History.Count == b.History.Count &&
        a.History.Zip(b.History).All(p => (p.First.Step, p.First.Phase, p.First.Concept, p.First.TEnc, p.First.T) == (p.Second.Step, p.Second.Phase, p.Second.Concept, p.Second.TEnc, p.Second.T));

    /// <summary>mean L2(run) / mean L2(control) over one phase's rows, with a 95 % bootstrap interval: rows resampled
    /// together when the two runs made the same draws (paired), each run's rows on their own otherwise.</summary>
    public static Summary L2Ratio(AdversaryRun run, AdversaryRun control, string phase = AdversarialPreservation.AscentPhase, int resamples = 4000, int seed = 0)
    {
        var a = run.L2(phase);
        var b = control.L2(phase);
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException($"no '{phase}' rows with an L2 in {(a.Count == 0 ? run.Name : control.Name)}");
        var paired = SameDraws(run, control);
        var ratio = a.Average() / b.Average();
        var rng = new Random(seed);
        var ratios = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            double sa = 0, sb = 0;
            if (paired)
                for (var i = 0; i < a.Count; i++) { var k = rng.Next(a.Count); sa += a[k]; sb += b[k]; }
            else
            {
                for (var i = 0; i < a.Count; i++) sa += a[rng.Next(a.Count)];
                for (var i = 0; i < b.Count; i++) sb += b[rng.Next(b.Count)];
            }
            ratios[r] = (sa / a.Count) / (sb / b.Count);
        }
        Array.Sort(ratios);
        return new Summary(ratio, Statistics.Std(ratios), ratios[(int)(0.025 * (resamples - 1))], ratios[(int)Math.Ceiling(0.975 * (resamples - 1))], a.Count);
    }
}
