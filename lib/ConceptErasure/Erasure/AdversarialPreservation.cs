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
    {
        var g = Functional.gumbel_softmax(adversary.Logits, Config.temperature, hard: true, generator: Generator);    // (N)
        using var _ = no_grad();
        using var argmax = g.argmax();
        return (g, (int)argmax.ToDouble());
    }

    /// <summary>L1 and L2 of one draw for the θ′ update, c_a = selection·M held fixed (no gradient into π).</summary>
    public (Tensor zt, Tensor za, Tensor l1, Tensor l2) Losses(ErasureDraw d, Tensor selection)
    {
        var concept = Config.erase[d.Concept];
        var ca = adversaries[d.Concept].Mix(selection.detach());                       //    c_a = G(π)·M          (1, S, D)
        var z = SampleLatents(d, torch.cat([Context(concept), ca])).chunk(2);          // 1. z_t, z_a from one z_T   (1, C, h, w) each
        var (zt, za) = (z[0], z[1]);
        var l1 = ErasureLoss(zt, d.T, concept);                                        // 2. L1 at z_t
        var l2 = PreservationLoss(za, d.T, ca);                                        // 3. L2 at z_a
        return (zt, za, l1, l2);
    }

    /// <summary>L2 of one draw for the ascent, with gradient into π through c_a = selection·M.</summary>
    public (Tensor za, Tensor l2) AscentLoss(ErasureDraw d, Tensor selection)
    {
        var ca = adversaries[d.Concept].Mix(selection);                                 //    c_a, differentiable in π   (1, S, D)
        var za = SampleLatents(d, ca);                                                  // 1. z_a (no gradient through sampling)
        var both = Config.ascent_gradient == ErasureConfig.AscentGradients.Both;
        return (za, PreservationLoss(za, d.T, ca, frozenGradient: both));              // 2. L2(π)
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        var rows = new List<ErasureStep>();

        // 1. θ′ step: min L1 + λ·L2 with c_a ~ G(π_e) fixed
        var d = Draw();
        var adversary = adversaries[d.Concept];
        var (selection, index) = Sample(adversary);
        var (_, _, l1, l2) = Losses(d, selection);
        var loss = l1 + l2 * Lambda;
        var value = loss.ToDouble();
        var applied = UpdateTrainable(loss, value);
        var (top, p) = adversary.Top();
        rows.Add(ThetaRow(step, d, l1.ToDouble(), l2.ToDouble(), value, applied) with { Candidate = adversary.Word(index), TopCandidate = top, TopProbability = p });
        if (!applied) return rows;

        // 2. π steps: max L2, each on a fresh draw
        for (var k = 0; k < Config.inner_steps; k++)
        {
            using var scope = NewDisposeScope();
            var row = Ascend(step);
            rows.Add(row);
            if (!row.Applied) break;
        }
        return rows;
    }

    /// <summary>One ascent step of π_e on L2 for a fresh draw; returns its row (not applied when L2 is not finite).</summary>
    public ErasureStep Ascend(int step, ErasureDraw? draw = null)
    {
        using var timer = Time(Sections.Adversary);
        var d = draw ?? Draw();
        var adversary = adversaries[d.Concept];
        var (selection, index) = Sample(adversary);
        var (_, l2) = AscentLoss(d, selection);
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
        return new JsonObject { ["adversaries"] = o };
    }

    public override void Dispose()
    {
        adversaryOptimizer.Dispose();
        foreach (var a in adversaries) a.Dispose();
        base.Dispose();
    }
}
