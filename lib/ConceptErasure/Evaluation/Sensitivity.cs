// Sensitivity.cs — how much erasing changed the model's answer to each concept: the measure behind the paper's
// sensitivity spectrum (Bui et al., NeurIPS 2024, §3 and Fig. 2), cheap enough to run over a whole vocabulary.
//
// For a concept c, at latents z shared by all concepts (partial samples of a neutral prompt by the erased model,
// stopped at a mid-noise step as the authors' code does: 20 of 50 DDIM steps, t ~ U[400, 420)):
//
//   δ(c) = ‖ε_θ′(z, t, c) − ε_θ(z, t, c)‖²      (mean over latent elements and over the shared z; the paper plots −δ
//                                                as a similarity)
//
// A large δ means θ′ no longer treats c as θ did: the concept was "hurt". It needs one forward of each UNet per
// concept and no image generation, so it ranks thousands of words in seconds — next to the judge-based scores of
// ErasureEvaluation.cs, which measure the same damage on generated images but only for a handful of concepts.
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record SensitivityOptions
{
    public int latents { get; init; } = 4;                 // shared z's (start noises)
    public string neutral { get; init; } = "";             // prompt the z's are partially sampled with
    public int ddim_steps { get; init; } = 50;             // grid of the partial sampling
    public int partial_steps { get; init; } = 20;          // DDIM steps taken from noise (the code's 20 of 50)
    public int t_low { get; init; } = 400;                 // t ~ U[t_low, t_high)
    public int t_high { get; init; } = 420;
    public double guidance { get; init; } = 3.0;           // CFG scale of the partial sampling
    public ulong seed { get; init; } = 11;
    public int batch { get; init; } = 64;                  // concepts per forward
}

public static class Sensitivity
{
    /// <summary>δ(c) for each concept (same order), comparing <paramref name="erased"/> with <paramref name="original"/>.</summary>
    public static double[] Delta(FoundationModel model, UNet2DConditionModel original, UNet2DConditionModel erased,
        IReadOnlyList<string> concepts, SensitivityOptions? options = null)
    {
        var o = options ?? new SensitivityOptions();
        if (o.partial_steps < 0 || o.partial_steps > o.ddim_steps) throw new ArgumentException($"partial_steps must be in [0, {o.ddim_steps}]");
        if (o.t_low < 0 || o.t_high <= o.t_low || o.t_high > model.Schedule.TrainSteps) throw new ArgumentException("need 0 ≤ t_low < t_high ≤ T");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pipe = new StableDiffusionPipeline(model);
        using var g = Rng.Create(o.seed);
        // 1. shared latents: the erased model samples the neutral prompt part of the way   (L, C, h, w)
        var noise = pipe.InitialNoise(o.latents, g);
        var neutral = model.Prompts.Encode(o.neutral).expand(o.latents, -1, -1).contiguous();
        var uncond = model.Prompts.Encode("").expand(o.latents, -1, -1).contiguous();
        var z = pipe.Denoise(erased, noise, neutral, uncond, new SamplingOptions { steps = o.ddim_steps, guidance_scale = o.guidance }, 0, o.partial_steps);
        int t;
        using (var draw = Rng.randint(o.t_low, o.t_high, [1], g)) t = (int)draw.item<long>();
        // 2. per concept: both UNets at (z, t, c) for every shared z
        var delta = new double[concepts.Count];
        for (var i = 0; i < concepts.Count; i += o.batch)
        {
            using var batchScope = NewDisposeScope();
            var n = Math.Min(o.batch, concepts.Count - i);
            var contexts = torch.cat(concepts.Skip(i).Take(n).Select(c => model.Prompts.Encode(c)).ToArray());     // (n, S, D)
            var L = o.latents;
            var zs = z.unsqueeze(0).expand(n, -1, -1, -1, -1).reshape(n * L, z.size(1), z.size(2), z.size(3));     // (n·L, C, h, w)
            var cs = contexts.unsqueeze(1).expand(-1, L, -1, -1).reshape(n * L, contexts.size(1), contexts.size(2)); // (n·L, S, D)
            var ts = torch.full([n * L], t, ScalarType.Int64, z.device);
            var d = (pipe.Epsilon(erased, zs, ts, cs) - pipe.Epsilon(original, zs, ts, cs)).pow(2)
                .reshape(n, -1).mean([1]).ToDoubles();                                                      // (n)
            Array.Copy(d, 0, delta, i, n);
        }
        return delta;
    }

    /// <summary>The whole vocabulary a spectrum is drawn over: every concept name, every word of the search
    /// vocabulary R (CandidateSearch.SearchWords), and the neutral prompts "" and "an emoji" — once each, in that order,
    /// each only if the tokenizer knows all its words.</summary>
    public static IReadOnlyList<string> Vocabulary(EmojiIndex index, WordTokenizer tokenizer) =>
        CandidateSearch.ConceptNames(index, tokenizer).Concat(CandidateSearch.SearchWords(index, tokenizer))
            .Concat(Neutrals.Where(n => tokenizer.Encode(n).Unknown.Count == 0)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The neutral prompts of the spectrum: the empty prompt and the medium itself ("a photo" on SD).</summary>
    public static IReadOnlyList<string> Neutrals { get; } = ["", "an emoji"];

    /// <summary>Percentile rank of <paramref name="value"/> among <paramref name="values"/>: the share strictly below it
    /// plus half the share equal to it, in [0, 1] (0 = the least damaged word of the spectrum).</summary>
    public static double PercentileRank(IReadOnlyList<double> values, double value)
    {
        if (values.Count == 0) throw new ArgumentException("no values to rank against");
        return (values.Count(v => v < value) + 0.5 * values.Count(v => v == value)) / values.Count;
    }

    // ---- files: one row per (word, latent seed) (what `workbook spectrum` writes and the notebooks read) -----------
    public const string CsvHeader = "word,seed,delta";

    public static string ToCsv(IReadOnlyList<string> words, ulong seed, IReadOnlyList<double> delta) =>
        string.Concat(words.Select((w, i) => FormattableString.Invariant($"{Csv.Quote(w)},{seed},{delta[i]:R}\n")));

    /// <summary>δ by latent seed, then by word, from a file of <see cref="CsvHeader"/> rows.</summary>
    public static SortedDictionary<ulong, Dictionary<string, double>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != CsvHeader) throw new InvalidDataException($"{path}: not a sensitivity file (header '{CsvHeader}')");
        var bySeed = new SortedDictionary<ulong, Dictionary<string, double>>();
        foreach (var f in lines.Skip(1).Where(l => l.Length > 0).Select(l => Csv.Split(l)))
        {
            var seed = ulong.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
            if (!bySeed.TryGetValue(seed, out var d)) bySeed[seed] = d = new Dictionary<string, double>(StringComparer.Ordinal);
            d[f[0]] = double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture);
        }
        return bySeed;
    }
}
