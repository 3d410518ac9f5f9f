// AdversarialPreservation.cs — the paper's method: erase c_e while preserving the concept that erasing it hurts most.
//
// Purpose. Bui et al., "Erasing Undesirable Concepts in Diffusion Models with Adversarial Preservation" (NeurIPS
// 2024) observe that erasing a concept damages the concepts related to it most ("nudity" → "women", "men";
// "garbage truck" → "boat", "bus") and the neutral concepts hardly at all, so preserving "" or "a photo"
// (FixedPreservation.cs) protects little. They preserve instead, at every step, the concept c_a that the current
// θ′ changes most — found by maximisation over a distribution π on a candidate vocabulary R, made differentiable
// with the Gumbel-Softmax:
//
//   min_θ′ max_{π ∈ Δ_R} E_{c_e} [ ‖ε_θ′(c_e) − ε_θ(c_n)‖²  +  λ ‖ε_θ′(G(π)·R) − ε_θ(G(π)·R)‖² ]      (Bui et al. Eq. 5)
//                                 └──────── L1 ────────┘        └──────────────── L2 ──────────────┘
//
// As the official code runs it (paper-notes §A):
//   • R_e per erased concept: K nearest vocabulary words, thinned to ≤ N by k-means (CandidateSearch.cs), with their
//     text-encoder outputs stacked as M_e (N, S, D); π_e: raw logits initialised to 1/N with its own Adam (lr 1e-2);
//   • c_a = G(π_e)·M_e with G the hard (straight-through) Gumbel-Softmax at temperature 2: the forward pass uses
//     exactly one candidate's embedding, the gradient flows through the soft sample;
//   • z_t (under c_e) and z_a (under c_a) are DDIM-sampled from the same start noise, stopped at the same t_enc;
//     L1 is ESD's loss at z_t (Esd.cs), L2 the preservation loss of c_a at z_a;
//   • alternate: one Adam step of θ′ on L1 + λ·L2 (c_a held fixed), then `inner_steps` ascent steps of π on L2,
//     each on a fresh draw (concept, t_enc, t, noise, Gumbel sample), as the code's odd iterations are.
// Several erased concepts (multi-concept erasure) each keep their own R_e and π_e; every draw picks one at random.
// The ascent gradient flows through both ε_θ′(c_a) and ε_θ(c_a) as the equation has it (ascent_gradient = both);
// the released code detaches the frozen branch (ascent_gradient = trainable).
using System.Text.Json.Nodes;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class AdversarialPreservation : ErasureMethod
{
    public const string AscentPhase = "pi";

    /// <summary>The adversary of one erased concept: its candidates, their embeddings M (N, S, D) and logits π (N).</summary>
    public sealed class Adversary : IDisposable
    {
        public CandidateSet Candidates { get; }
        public Tensor Embeddings { get; }        // M, (N, S, D), no gradient
        public Parameter Logits { get; }         // π, (N), trained by ascent

        internal Adversary(CandidateSet candidates, Tensor embeddings)
        {
            Candidates = candidates;
            Embeddings = embeddings.DetachFromDisposeScope();
            var n = candidates.Candidates.Count;
            Logits = (Parameter)new Parameter(torch.full([n], 1.0 / n, device: Embeddings.device)).DetachFromDisposeScope();   // raw logits = 1/N: uniform start
        }

        public string Word(int index) => Candidates.Candidates[index].Word;

        /// <summary>softmax(π) on the host.</summary>
        public double[] Probabilities()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return Logits.softmax(-1).ToDoubles();
        }

        /// <summary>The most probable candidate under π and its probability.</summary>
        public (string word, double probability) Top()
        {
            var p = Probabilities();
            var best = Array.IndexOf(p, p.Max());
            return (Word(best), p[best]);
        }

        /// <summary>c_a = G·M for a selection G over the candidates (one-hot, soft, or straight-through): (1, S, D).</summary>
        public Tensor Mix(Tensor selection)
        {
            using var scope = NewDisposeScope();
            long S = Embeddings.size(1), D = Embeddings.size(2);
            var flat = Guarded.matmul(selection.unsqueeze(0), Embeddings.flatten(1));           // (1, N)·(N, S·D) → (1, S·D)
            return flat.view(1, S, D).MoveToOuterDisposeScope();
        }

        public void Dispose() { Embeddings.Dispose(); Logits.Dispose(); }
    }

    readonly Adversary[] adversaries;
    readonly Adam adversaryOptimizer;

    public IReadOnlyList<Adversary> Adversaries => adversaries;

    public AdversarialPreservation(Models.FoundationModel model, ErasureConfig config) : base(model, config)
    {
        // 1. a candidate set and a π per erased concept (each excludes every erased concept)
        adversaries = config.erase.Select(concept =>
        {
            var set = CandidateSearch.Find(model, concept, config.vocabulary!, config.erase, config.top_k, config.candidates);
            using var scope = NewDisposeScope();
            return new Adversary(set, CandidateSearch.Embed(model, set.Words).MoveToOuterDisposeScope());
        }).ToArray();
        // 2. one Adam over every π, as the code's single optimiser over all one-hot vectors
        adversaryOptimizer = optim.Adam(adversaries.Select(a => a.Logits), lr: config.adversary_lr);
    }

    /// <summary>G(π): a hard Gumbel-Softmax sample (N) at the configured temperature — one-hot forward, soft gradient —
    /// and the index it selects.</summary>
    public (Tensor selection, int index) Sample(Adversary adversary)
        => Sample(adversary, Functional.gumbel_noise(adversary.Logits, Generator));

    /// <summary>G(π) for given Gumbel noise (N): the same sample recomputed after π has moved.</summary>
    (Tensor selection, int index) Sample(Adversary adversary, Tensor gumbel)
    {
        var g = Functional.gumbel_softmax(adversary.Logits, gumbel, Config.temperature, hard: true);        // (N)
        using var _ = no_grad();
        using var argmax = g.argmax();
        return (g, (int)argmax.ToDouble());
    }

    /// <summary>L1 and L2 of one draw for the θ′ update, c_a = selection·M held fixed (no gradient into π); z_t and z_a
    /// are sampled unless given.</summary>
    public (Tensor zt, Tensor za, Tensor l1, Tensor l2) Losses(ErasureDraw d, Tensor selection, Tensor? zt = null, Tensor? za = null)
    {
        var concept = Config.erase[d.Concept];
        var ca = adversaries[d.Concept].Mix(selection.detach());                       //    c_a = G(π)·M          (1, S, D)
        if (zt is null || za is null)
        {
            var z = SampleLatents(d, torch.cat([Context(concept), ca])).chunk(2);      // 1. z_t, z_a from one z_T   (1, C, h, w) each
            (zt, za) = (z[0], z[1]);
        }
        var l1 = ErasureLoss(zt, d.T, concept);                                        // 2. L1 at z_t
        var l2 = PreservationLoss(za, d.T, ca);                                        // 3. L2 at z_a
        return (zt, za, l1, l2);
    }

    /// <summary>L2 of one draw for the ascent, with gradient into π through c_a = selection·M; z_a sampled unless given.</summary>
    public (Tensor za, Tensor l2) AscentLoss(ErasureDraw d, Tensor selection, Tensor? za = null)
    {
        var ca = adversaries[d.Concept].Mix(selection);                                 //    c_a, differentiable in π   (1, S, D)
        za ??= SampleLatents(d, ca);                                                    // 1. z_a (no gradient through sampling)
        var both = Config.ascent_gradient == ErasureConfig.AscentGradients.Both;
        return (za, PreservationLoss(za, d.T, ca, frozenGradient: both));              // 2. L2(π)
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        if (Config.batch_ascent) return BatchedStep(step);
        var rows = new List<ErasureStep>();
        // 1. θ′ step: min L1 + λ·L2 with c_a ~ G(π_e) fixed
        var d = Draw();
        var row = Update(step, d, Functional.gumbel_noise(adversaries[d.Concept].Logits, Generator), null);
        rows.Add(row);
        if (!row.Applied) return rows;
        // 2. π steps: max L2, each on a fresh draw
        for (var k = 0; k < Config.inner_steps; k++)
        {
            using var scope = NewDisposeScope();
            var ascent = Ascend(step);
            rows.Add(ascent);
            if (!ascent.Applied) break;
        }
        return rows;
    }

    /// <summary>The θ′ update of one draw: c_a = G(π_e) from the given Gumbel noise, L1 + λ·L2, one Adam step.
    /// <paramref name="latents"/>: z_t and z_a already sampled for the candidate <c>index</c> (used when G selects it).</summary>
    ErasureStep Update(int step, ErasureDraw d, Tensor gumbel, (int index, Tensor zt, Tensor za)? latents)
    {
        var adversary = adversaries[d.Concept];
        var (selection, index) = Sample(adversary, gumbel);
        var hit = latents is { } l && l.index == index;
        var (_, _, l1, l2) = hit ? Losses(d, selection, latents!.Value.zt, latents.Value.za) : Losses(d, selection);
        var loss = l1 + l2 * Lambda;
        var value = loss.ToDouble();
        var applied = UpdateTrainable(loss, value);
        var (top, p) = adversary.Top();
        return ThetaRow(step, d, l1.ToDouble(), l2.ToDouble(), value, applied) with { Candidate = adversary.Word(index), TopCandidate = top, TopProbability = p };
    }

    /// <summary>One ascent step of π_e on L2 for a fresh draw; returns its row (not applied when L2 is not finite).</summary>
    public ErasureStep Ascend(int step, ErasureDraw? draw = null)
    {
        var d = draw ?? Draw();
        return Ascend(step, d, Functional.gumbel_noise(adversaries[d.Concept].Logits, Generator), null);
    }

    ErasureStep Ascend(int step, ErasureDraw d, Tensor gumbel, (int index, Tensor za)? latents)
    {
        using var timer = Time(Sections.Adversary);
        var adversary = adversaries[d.Concept];
        var (selection, index) = Sample(adversary, gumbel);
        var (_, l2) = latents is { } l && l.index == index ? AscentLoss(d, selection, l.za) : AscentLoss(d, selection);
        var value = l2.ToDouble();
        var applied = double.IsFinite(value);
        if (applied)
        {
            // ∂L2/∂π only (no weight gradients of θ′ are computed), then Adam on −L2: the surrogate ⟨π, −g⟩ gives π.grad = −g.
            var g = Guarded.grad(l2, adversary.Logits);
            adversaryOptimizer.zero_grad();
            (adversary.Logits * (-g).detach()).sum().backward();
            adversaryOptimizer.step();
            adversaryOptimizer.zero_grad();
        }
        var (top, p) = adversary.Top();
        return new ErasureStep(step, AscentPhase, Config.erase[d.Concept], d.TEnc, d.T, null, value, value, applied)
        { Candidate = adversary.Word(index), TopCandidate = top, TopProbability = p };
    }

    // ---- batched sampling (batch_ascent) ---------------------------------------------------------------------------
    // Update k's ascents sample z_a with θ′_k, and so does update k+1's θ′ step; only π moves in between. So the
    // ascents are run at the start of the next Step, and every z_a and z_t they and the next θ′ step need is sampled
    // in one batched call. The draws are made in the sequential loop's order (ascent draws, then the θ′ draw, each with
    // its Gumbel noise), so the random stream is the same; the candidate each sample selects is predicted from π as
    // it stands before the ascents, and when an ascent has moved π enough to change a selection, that row is sampled
    // again. What is computed is the sequential loop's, up to float rounding of batched rows.
    int pendingAscents, pendingStep;
    long predictions, mispredictions;

    IReadOnlyList<ErasureStep> BatchedStep(int step)
    {
        var rows = new List<ErasureStep>();
        // 0. the draws, in the sequential order: the previous update's ascents, then this update's θ′ draw
        var ascents = Enumerable.Range(0, pendingAscents).Select(_ => DrawWithNoise()).ToList();
        var theta = DrawWithNoise();
        // 1. every latent they need, in one batched sampling, with c_a predicted from π as it is now
        var requests = new List<(ErasureDraw, Tensor)>();
        var guess = new List<int>();
        foreach (var (d, g) in ascents.Append(theta))
        {
            var i = Predict(d, g);
            guess.Add(i);
            requests.Add((d, adversaries[d.Concept].Mix(OneHot(d, i))));
        }
        requests.Add((theta.d, Context(Config.erase[theta.d.Concept])));
        var z = SampleLatents(requests);
        // 2. the ascents of the previous update, in order
        for (var k = 0; k < ascents.Count; k++)
        {
            using var scope = NewDisposeScope();
            var row = Ascend(pendingStep, ascents[k].d, ascents[k].g, (guess[k], z[k]));
            Count(row, guess[k]);
            rows.Add(row);
            if (!row.Applied) { pendingAscents = 0; return rows; }
        }
        pendingAscents = 0;
        // 3. this update's θ′ step; its ascents wait for the next Step (or Flush)
        var theta_row = Update(step, theta.d, theta.g, (guess[^1], z[^1], z[^2]));
        Count(theta_row, guess[^1]);
        rows.Add(theta_row);
        if (theta_row.Applied) (pendingAscents, pendingStep) = (Config.inner_steps, step);
        return rows;
    }

    (ErasureDraw d, Tensor g) DrawWithNoise()
    {
        var d = Draw();
        return (d, Functional.gumbel_noise(adversaries[d.Concept].Logits, Generator));
    }

    int Predict(ErasureDraw d, Tensor gumbel)
    {
        using var _ = no_grad();
        using var argmax = (adversaries[d.Concept].Logits + gumbel).argmax();
        return (int)argmax.ToDouble();
    }

    Tensor OneHot(ErasureDraw d, int index)
    {
        var logits = adversaries[d.Concept].Logits;
        return nn.functional.one_hot(torch.tensor(index, ScalarType.Int64, logits.device), logits.size(0)).to(logits.dtype);   // (N)
    }

    void Count(ErasureStep row, int guessed)
    {
        predictions++;
        if (row.Candidate != adversaries[Config.erase.ToList().IndexOf(row.Concept)].Word(guessed)) mispredictions++;
    }

    /// <summary>Runs the ascents deferred by batch_ascent (before a checkpoint and at the end of the run).</summary>
    public override IReadOnlyList<ErasureStep> Flush()
    {
        var rows = new List<ErasureStep>();
        for (var k = 0; k < pendingAscents; k++)
        {
            using var scope = NewDisposeScope();
            var row = Ascend(pendingStep);
            rows.Add(row);
            if (!row.Applied) break;
        }
        pendingAscents = 0;
        return rows;
    }

    // ---- resumable state (ErasureState.cs): π of every adversary and their Adam -------------------------------------
    public override void AddTo(Training.Checkpoint.Parts parts)
    {
        base.AddTo(parts);
        parts.Optimizers["pi"] = adversaryOptimizer;
    }

    public override Dictionary<string, Tensor> StateTensors()
    {
        var t = base.StateTensors();
        for (var i = 0; i < adversaries.Length; i++) t[$"pi/{i}"] = adversaries[i].Logits;
        return t;
    }

    public override void RestoreState(IReadOnlyDictionary<string, Tensor> tensors, JsonObject json)
    {
        base.RestoreState(tensors, json);
        for (var i = 0; i < adversaries.Length; i++) CopyInto(adversaries[i].Logits, Need(tensors, $"pi/{i}"), $"pi/{i}");
    }

    public override JsonObject Describe()
    {
        var o = new JsonObject();
        foreach (var a in adversaries)
        {
            var probabilities = a.Probabilities();
            var (top, p) = a.Top();
            o[a.Candidates.Concept] = new JsonObject
            {
                ["clustered"] = a.Candidates.Clustered,
                ["candidates"] = new JsonArray(a.Candidates.Candidates.Select((c, i) => (JsonNode)new JsonObject
                {
                    ["word"] = c.Word, ["distance"] = c.Distance, ["probability"] = probabilities[i],
                }).ToArray()),
                ["top"] = top,
                ["top_probability"] = p,
            };
        }
        return new JsonObject
        {
            ["adversaries"] = o,
            ["batched_sampling"] = new JsonObject { ["enabled"] = Config.batch_ascent, ["predicted"] = predictions, ["resampled"] = mispredictions },
        };
    }

    public override void Dispose()
    {
        adversaryOptimizer.Dispose();
        foreach (var a in adversaries) a.Dispose();
        base.Dispose();
    }
}
