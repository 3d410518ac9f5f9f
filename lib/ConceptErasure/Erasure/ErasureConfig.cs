// ErasureConfig.cs — every knob of a concept-erasure run, with the defaults of the official code of
// "Erasing Undesirable Concepts in Diffusion Models with Adversarial Preservation" (Bui et al., NeurIPS 2024),
// and the validation that refuses a bad run before any work: unknown concepts (with the closest known ones
// suggested), unknown method or parameter-group names, and out-of-range hyper-parameters, all in one message.
//
// The methods (one file each in this folder):
//   naive                     min_θ′ ‖ε_θ′(c_e) − ε_θ(c_n)‖²                                   (Esd.cs, η = 0)
//   esd                       min_θ′ ‖ε_θ′(c_e) − [ε_θ(c_n) − η(ε_θ(c_e) − ε_θ(c_n))]‖²       (Esd.cs; Gandikota et al. 2023)
//   fixed_preservation        ESD + λ‖ε_θ′(c_p) − ε_θ(c_p)‖² for given prompts c_p             (FixedPreservation.cs)
//   parameter_regularisation  ESD + λ‖θ′ − θ‖²                                                 (ParameterRegularisation.cs)
//   adversarial_preservation  min_θ′ max_π ESD + λ‖ε_θ′(G(π)·R) − ε_θ(G(π)·R)‖²                (AdversarialPreservation.cs)
//   adversarial_pgd           the same with a continuous c_a moved by normalised gradient ascent (AdversarialPgd.cs)
// The official code writes its erasure target with ESD's negative guidance at η = 1; the paper's equation is the
// η = 0 case (the "naive" target). Set eta = 0 to train the paper's equation with any method.
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ConceptErasure.Models;

namespace ConceptErasure.Erasure;

public sealed record ErasureConfig
{
    // ---- what to erase ----------------------------------------------------------------------------------------
    public string method { get; init; } = Methods.AdversarialPreservation;   // one of Methods.All
    public IReadOnlyList<string> erase { get; init; } = [];        // the concepts c_e (prompts); several = multi-concept erasure
    public string neutral { get; init; } = "";                     // c_n, the erasure target concept ("" as in ESD and AP)
    public IReadOnlyList<string>? targets { get; init; }           // one c_n per erased concept, in erase's order (Fantastic Targets, Bui et al.
                                                                   //   ICLR 2025: a concept's own target instead of the shared ""); null = neutral for all
    public IReadOnlyList<string> preserve { get; init; } = [];     // c_p of fixed_preservation
    public IReadOnlyList<string>? vocabulary { get; init; }        // R, the words adversarial_preservation searches (paper: 3,000 English words)

    // ---- what to train and how --------------------------------------------------------------------------------
    public string parameters { get; init; } = Groups.CrossAttention; // xattn (ESD-x: objects, artists) | noxattn (ESD-u: nudity) | full
    public int iterations { get; init; } = 100;      // θ′ updates (Adam, batch 1). The paper: 1000 at lr 1e-5 on Stable Diffusion;
    public double lr { get; init; } = 1e-4;          //   Adam learning rate of θ′. Here 100 at 1e-4, chosen on data/concept-sets/tuning.json
                                                     //   (disjoint from Emojinette): ESD-x then erases 87 % top-1 of the tuning split's concepts
                                                     //   while 200 at 1e-4 or any run at ≥ 3e-4 wipes out the preserved concepts too
    public double? lambda { get; init; }             // weight λ of the preservation/regularisation term; null = the method's default (DefaultLambda)
    public double eta { get; init; } = 1.0;          // negative guidance η of the erasure target (naive forces 0)
    public ulong seed { get; init; } = 0;            // seeds every draw: concept, t_enc, t, start noise, Gumbel noise

    // ---- how z_t is produced ----------------------------------------------------------------------------------
    public int ddim_steps { get; init; } = 50;       // DDIM grid for sampling z_t; t_enc ~ U{0 … ddim_steps−1}
    public double guidance { get; init; } = 3.0;     // classifier-free guidance scale while sampling z_t ("start guidance")
    public string sampler { get; init; } = Samplers.Trainable;   // which model samples z_t: trainable θ′ (ESD, AP) | frozen θ
    public int zt_reuse { get; init; } = 10;         // draws that share one start noise z_T: 1 = a fresh z_T and a fresh trajectory every draw (ESD, AP);
                                                     //   R > 1 = z_T is redrawn every R draws and a trajectory already sampled under the same z_T and
                                                     //   prompt is continued instead of resampled (its latents were made by θ′ up to R − 1 updates ago).
                                                     //   10: sampling z_t was 89 % of an ESD iteration at R = 1; R = 10 makes ESD ~4× faster
    public string loss_space { get; init; } = Spaces.X0;         // x0 (the official code: ‖x̂₀(ε′) − x̂₀(ε)‖²) | epsilon (the paper's equations)

    // ---- adversarial preservation (Gumbel-Softmax) --------------------------------------------------------------
    public int top_k { get; init; } = 1000;          // K: words of R nearest to c_e (L2 between flattened text-encoder outputs)
    public int candidates { get; init; } = 100;      // N: k-means centres over the K distances → ≤ N candidates per c_e
    public double temperature { get; init; } = 2.0;  // Gumbel-Softmax temperature τ (hard, straight-through)
    public double adversary_lr { get; init; } = 1e-2;  // Adam learning rate of the logits π ("gumbel_lr"); 0 = π stays uniform while every
                                                       //   draw still happens: random candidates, the control paired draw by draw with any run
    public int inner_steps { get; init; } = 1;       // ascent steps on π per θ′ update, each on a fresh draw (ablations: 2, 4, 8)
    public bool batch_ascent { get; init; } = true;   // sample each update's ascent z_a in one batch with the next θ′ step's z_t and z_a (they use the
                                                     //   same θ′); the same computation with fewer UNet calls (AdversarialPreservation.cs); false = one call each
    public string ascent_gradient { get; init; } = AscentGradients.Both;  // both: ∇ through ε_θ′ and ε_θ (the equation) | trainable: ε_θ detached (the code)

    // ---- adversarial PGD ----------------------------------------------------------------------------------------
    public int pgd_steps { get; init; } = 100;       // ascent steps on the continuous c_a per θ′ update
    public double pgd_lr { get; init; } = 1e-5;      // c_a ← c_a + lr·g/‖g‖·‖c_a‖ (no projection)

    // ---- UCE (uce): a closed-form edit of every attn2 to_k / to_v; `preserve` are its preserved prompts, λ their weight
    public double uce_ridge { get; init; } = 0.1;     // ε: how strongly W′ stays near W where no prompt constrains it (UCE's "lamb")

    // ---- reporting ------------------------------------------------------------------------------------------------
    public int log_every { get; init; } = 25;        // θ′ updates between progress lines

    public static class Methods
    {
        public const string Naive = "naive", Esd = "esd", FixedPreservation = "fixed_preservation",
            ParameterRegularisation = "parameter_regularisation", AdversarialPreservation = "adversarial_preservation",
            AdversarialPgd = "adversarial_pgd", Uce = "uce";
        public static IReadOnlyList<string> All { get; } = [Naive, Esd, FixedPreservation, ParameterRegularisation, AdversarialPreservation, AdversarialPgd, Uce];
    }
    public static class Groups
    {
        public const string CrossAttention = "xattn", NoCrossAttention = "noxattn", Full = "full";
        public static IReadOnlyList<string> All { get; } = [CrossAttention, NoCrossAttention, Full];
    }
    public static class Samplers
    {
        public const string Trainable = "trainable", Frozen = "frozen";
        public static IReadOnlyList<string> All { get; } = [Trainable, Frozen];
    }
    public static class Spaces
    {
        public const string X0 = "x0", Epsilon = "epsilon";
        public static IReadOnlyList<string> All { get; } = [X0, Epsilon];
    }
    public static class AscentGradients
    {
        public const string Both = "both", Trainable = "trainable";
        public static IReadOnlyList<string> All { get; } = [Both, Trainable];
    }

    /// <summary>λ of each method when none is given: 1 as in the released scripts; 0.01 for PGD ("erase_w_prompt").</summary>
    public static double DefaultLambda(string method) => method == Methods.AdversarialPgd ? 0.01 : 1.0;

    /// <summary>The λ this run uses (0 for the methods without a second term).</summary>
    [JsonIgnore] public double EffectiveLambda => method is Methods.Naive or Methods.Esd ? 0 : lambda ?? DefaultLambda(method);

    /// <summary>The erasure target c_n of an erased concept: its own entry of <see cref="targets"/>, else <see cref="neutral"/>.</summary>
    public string TargetOf(string concept)
    {
        if (targets is null) return neutral;
        var i = erase.ToList().IndexOf(concept);
        return i >= 0 && i < targets.Count ? targets[i] : throw new ArgumentException($"'{concept}' is not an erased concept of this run");
    }

    /// <summary>The η this run uses: naive is ESD with η = 0.</summary>
    [JsonIgnore] public double EffectiveEta => method == Methods.Naive ? 0 : eta;

    [JsonIgnore] public bool IsClosedForm => method == Methods.Uce;

    [JsonIgnore] public bool IsAdversarial => method is Methods.AdversarialPreservation or Methods.AdversarialPgd;

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    static readonly JsonSerializerOptions Strict = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    /// <summary>A config from JSON (a manifest's "config" or a hand-written file); keys it does not know are errors,
    /// keys it does not mention keep their defaults.</summary>
    public static ErasureConfig FromJson(string json, string source = "config")
    {
        var strict = Data.StrictJson.Problems(json, source, new HashSet<string> { "lambda", "vocabulary", "targets" });
        if (strict.Count > 0) throw new ErasureConfigException(strict);
        try { return JsonSerializer.Deserialize<ErasureConfig>(json, Strict) ?? throw new ErasureConfigException([$"{source} is empty"]); }
        catch (JsonException e) { throw new ErasureConfigException([$"{source}: {e.Message}"]); }
    }

    // ---- validation -------------------------------------------------------------------------------------------
    /// <summary>The hyper-parameter problems (no model needed), one line each; empty when the config is usable.</summary>
    public IReadOnlyList<string> HyperParameterProblems()
    {
        var p = new List<string>();
        void Choice(string what, string value, IReadOnlyList<string> allowed)
        {
            if (!allowed.Contains(value))
                p.Add($"{what} '{value}' is not one of {string.Join(", ", allowed)}{Hint(value, allowed)}");
        }
        void Positive(string what, double v) { if (!(v > 0) || double.IsInfinity(v)) p.Add($"{what} must be a finite number > 0, got {v}"); }
        void NonNegative(string what, double v) { if (!(v >= 0) || double.IsInfinity(v)) p.Add($"{what} must be a finite number ≥ 0, got {v}"); }

        Choice("method", method, Methods.All);
        Choice("parameters", parameters, Groups.All);
        Choice("sampler", sampler, Samplers.All);
        Choice("loss_space", loss_space, Spaces.All);
        Choice("ascent_gradient", ascent_gradient, AscentGradients.All);
        if (erase.Count == 0) p.Add("erase lists no concept");
        if (erase.Distinct().Count() != erase.Count) p.Add("erase lists a concept twice");
        if (erase.Contains(neutral)) p.Add($"the neutral concept '{neutral}' is also to be erased");
        if (targets is not null)
        {
            if (targets.Count != erase.Count) p.Add($"targets lists {targets.Count} prompts for {erase.Count} erased concepts (one each, in the same order)");
            foreach (var t in targets.Where(erase.Contains).Distinct()) p.Add($"the target '{t}' is also to be erased");
        }
        var both = erase.Intersect(preserve).ToList();
        if (both.Count > 0) p.Add($"{string.Join(", ", both.Select(b => $"'{b}'"))} both erased and preserved");
        if (iterations < 1) p.Add($"iterations must be ≥ 1, got {iterations}");
        Positive("lr", lr);
        if (lambda is { } l) NonNegative("lambda", l);
        NonNegative("eta", eta);
        NonNegative("guidance", guidance);
        if (ddim_steps is < 1 or > 1000) p.Add($"ddim_steps must be in [1, 1000], got {ddim_steps}");
        if (zt_reuse < 1) p.Add($"zt_reuse must be ≥ 1, got {zt_reuse}");
        if (log_every < 1) p.Add($"log_every must be ≥ 1, got {log_every}");
        if (method == Methods.FixedPreservation && preserve.Count == 0) p.Add("fixed_preservation needs at least one prompt in preserve");
        if (method == Methods.AdversarialPreservation)
        {
            if (top_k < 1) p.Add($"top_k (K) must be ≥ 1, got {top_k}");
            if (candidates < 1) p.Add($"candidates (N) must be ≥ 1, got {candidates}");
            if (candidates > top_k) p.Add($"candidates N = {candidates} > top_k K = {top_k}: k-means cannot keep more words than it clusters");
            Positive("temperature", temperature);
            NonNegative("adversary_lr", adversary_lr);
            if (inner_steps < 0) p.Add($"inner_steps must be ≥ 0, got {inner_steps}");
            if (vocabulary is null || vocabulary.Count == 0) p.Add("adversarial_preservation needs a vocabulary R to search (e.g. CandidateSearch.SearchWords(index))");
        }
        if (method == Methods.AdversarialPgd)
        {
            if (pgd_steps < 1) p.Add($"pgd_steps must be ≥ 1, got {pgd_steps}");
            Positive("pgd_lr", pgd_lr);
        }
        if (method == Methods.Uce)
        {
            Positive("uce_ridge", uce_ridge);
            if (parameters != Groups.CrossAttention) p.Add($"uce edits the cross-attention projections only: parameters must be {Groups.CrossAttention}, got {parameters}");
        }
        return p;
    }

    /// <summary>Every problem of this config for this model: hyper-parameters, then concepts the model's tokenizer
    /// cannot encode (and, when <paramref name="knownConcepts"/> is given, erased concepts outside it), each with the
    /// closest known concepts.</summary>
    public IReadOnlyList<string> Problems(FoundationModel model, IReadOnlyCollection<string>? knownConcepts = null)
    {
        var p = HyperParameterProblems().ToList();
        if (ddim_steps >= 1 && ddim_steps <= 1000 && ddim_steps > model.Schedule.TrainSteps)
            p.Add($"ddim_steps {ddim_steps} exceeds the model's {model.Schedule.TrainSteps} training timesteps");
        var tokenizer = model.Tokenizer;
        var words = tokenizer.Vocabulary.Skip(Data.WordTokenizer.Specials.Count).ToList();
        var known = knownConcepts?.ToList() ?? (vocabulary is { Count: > 0 } ? vocabulary.Concat(words).Distinct().ToList() : words);

        void Prompt(string role, string prompt)
        {
            var encoded = tokenizer.Encode(prompt);
            if (encoded.Unknown.Count > 0)
                p.Add($"{role} '{prompt}' has words the model does not know ({string.Join(", ", encoded.Unknown.Select(w => $"'{w}'"))}){Hint(prompt, known)}");
            else if (encoded.Truncated)
                p.Add($"{role} '{prompt}' is longer than the model's {tokenizer.ContextLength}-token context");
        }
        foreach (var c in erase)
        {
            Prompt("erased concept", c);
            if (knownConcepts is not null && !knownConcepts.Contains(c))
                p.Add($"erased concept '{c}' is not a known concept{Hint(c, known)}");
        }
        foreach (var c in preserve) Prompt("preserved prompt", c);
        Prompt("neutral concept", neutral);
        foreach (var t in targets ?? []) Prompt("target", t);
        if (method == Methods.AdversarialPreservation && vocabulary is { Count: > 0 })
        {
            var unknown = vocabulary.Where(w => tokenizer.Encode(w).Unknown.Count > 0).ToList();
            if (unknown.Count > 0)
                p.Add($"{unknown.Count} vocabulary words are unknown to the model's tokenizer: {string.Join(", ", unknown.Take(8).Select(w => $"'{w}'"))}{(unknown.Count > 8 ? ", …" : "")}");
            if (vocabulary.Distinct().Count() != vocabulary.Count) p.Add("the vocabulary lists a word twice");
            if (!vocabulary.Except(erase).Any()) p.Add("the vocabulary has no word besides the erased concepts: nothing to preserve");
        }
        return p;
    }

    /// <summary>Throws one <see cref="ErasureConfigException"/> listing every problem; returns this config when there is none.</summary>
    public ErasureConfig Validate(FoundationModel model, IReadOnlyCollection<string>? knownConcepts = null)
    {
        var p = Problems(model, knownConcepts);
        if (p.Count > 0) throw new ErasureConfigException(p);
        return this;
    }

    // ---- suggestions ------------------------------------------------------------------------------------------
    static string Hint(string value, IReadOnlyList<string> known)
    {
        var near = Closest(value, known, 3);
        return near.Count > 0 ? $" — closest known: {string.Join(", ", near.Select(n => $"'{n}'"))}" : "";
    }

    /// <summary>The known names closest to <paramref name="value"/> (Data/Suggestions.cs).</summary>
    public static IReadOnlyList<string> Closest(string value, IEnumerable<string> known, int count) => Data.Suggestions.Closest(value, known, count);

    /// <summary>Levenshtein distance (Data/Suggestions.cs).</summary>
    public static int EditDistance(string a, string b) => Data.Suggestions.EditDistance(a, b);
}

/// <summary>An erasure config that cannot run; the message lists every problem, one per line.</summary>
public sealed class ErasureConfigException(IReadOnlyList<string> problems)
    : ArgumentException(Format(problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
    static string Format(IReadOnlyList<string> problems)
    {
        var sb = new StringBuilder($"the erasure config has {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:");
        foreach (var x in problems) sb.Append("\n  - ").Append(x);
        return sb.ToString();
    }
}
