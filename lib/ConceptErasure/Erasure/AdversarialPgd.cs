// AdversarialPgd.cs — the continuous variant of adversarial preservation, which the paper shows does not work.
//
// Purpose. Before the Gumbel-Softmax search (AdversarialPreservation.cs), Bui et al. (NeurIPS 2024, §4.1
// "Challenges of searching in continuous space") try the obvious relaxation: treat the adversarial concept as a
// free embedding c_a ∈ R^{S×D}, start it at the erased concept, c_a,0 = τ(c_e), and climb the preservation loss
// with projected gradient ascent (Madry et al. 2018) — here, as in their code, a step normalised to the gradient's
// direction and scaled by the embedding's norm, with no projection:
//
//   c_a ← c_a + lr · ∇_{c_a}L2 / ‖∇_{c_a}L2‖ · ‖c_a‖,        L2 = ‖ε_θ′(z_t, c_a) − ε_θ(z_t, c_a)‖²
//
// interleaved with the θ′ update min_θ′ L1 + λ·L2 (λ = 0.01 in the released script, "erase_w_prompt"). Their
// finding: c_a drifts off every real concept and collapses to a background-like image that keeps only the object's
// colour — which is why the paper searches over discrete concepts instead.
// As the code runs it: c_a is kept per erased concept across iterations; each iteration first updates θ′ with L2 at
// the same z_t as L1 (sampled under c_e), then draws afresh (t_enc, t, z_T, z_t under c_e) and takes `pgd_steps`
// ascent steps on that fixed z_t. The ascent gradient flows through both UNets unless ascent_gradient = trainable
// (the code's choice).
using System.Text.Json.Nodes;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class AdversarialPgd : ErasureMethod
{
    public const string AscentPhase = "pgd";

    readonly Tensor[] adversarial;   // c_a per erased concept, (1, S, D), owned
    readonly Tensor[] initial;       // τ(c_e), (1, S, D), owned

    public AdversarialPgd(Models.FoundationModel model, ErasureConfig config) : base(model, config)
    {
        initial = config.erase.Select(c => Context(c).DetachFromDisposeScope()).ToArray();
        adversarial = initial.Select(c => c.clone().DetachFromDisposeScope()).ToArray();
    }

    // ---- resumable state (ErasureState.cs): c_a of every erased concept --------------------------------------------
    public override Dictionary<string, Tensor> StateTensors()
    {
        var t = base.StateTensors();
        for (var i = 0; i < adversarial.Length; i++) t[$"c_a/{i}"] = adversarial[i];
        return t;
    }

    public override void RestoreState(IReadOnlyDictionary<string, Tensor> tensors, System.Text.Json.Nodes.JsonObject json)
    {
        base.RestoreState(tensors, json);
        for (var i = 0; i < adversarial.Length; i++) CopyInto(adversarial[i], Need(tensors, $"c_a/{i}"), $"c_a/{i}");
    }

    /// <summary>The current c_a of each erased concept (live tensors, do not dispose).</summary>
    public IReadOnlyList<Tensor> Embeddings => adversarial;

    /// <summary>‖c_a − τ(c_e)‖ / ‖τ(c_e)‖ for an erased concept.</summary>
    public double Drift(int concept)
    {
        using var scope = NewDisposeScope();
        return ((adversarial[concept] - initial[concept]).norm().ToDouble()) / initial[concept].norm().ToDouble();
    }

    /// <summary>L1 and L2 of one draw for the θ′ update: both at z_t, c_a held fixed.</summary>
    public (Tensor zt, Tensor l1, Tensor l2) Losses(ErasureDraw d)
    {
        var concept = Config.erase[d.Concept];
        var zt = SampleLatents(d, Context(concept));                       // 1. z_t under c_e                (1, C, h, w)
        var l1 = ErasureLoss(zt, d.T, concept);                            // 2. L1
        var l2 = PreservationLoss(zt, d.T, adversarial[d.Concept]);        // 3. L2 of c_a at the same z_t
        return (zt, l1, l2);
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        // 1. θ′ step on L1 + λ·L2
        var d = Draw();
        var (_, l1, l2) = Losses(d);
        var loss = l1 + l2 * Lambda;
        var value = loss.ToDouble();
        var applied = UpdateTrainable(loss, value);
        var row = ThetaRow(step, d, l1.ToDouble(), l2.ToDouble(), value, applied) with { Drift = Drift(d.Concept) };
        if (!applied) return [row];
        // 2. c_a ascent on a fresh draw
        using var scope = NewDisposeScope();
        return [row, Ascend(step)];
    }

    /// <summary>pgd_steps normalised ascent steps of c_a on L2 at one fresh z_t; returns the row (L2 of the last step;
    /// not applied when a loss is not finite — c_a then keeps its last finite value).</summary>
    public ErasureStep Ascend(int step, ErasureDraw? draw = null)
    {
        using var timer = Time(Sections.Adversary);
        var d = draw ?? Draw();
        var concept = Config.erase[d.Concept];
        var zt = SampleLatents(d, Context(concept));                                        // z_t under c_e, fixed for the steps
        var both = Config.ascent_gradient == ErasureConfig.AscentGradients.Both;
        var c = adversarial[d.Concept];
        double value = 0;
        for (var s = 0; s < Config.pgd_steps; s++)
        {
            using var scope = NewDisposeScope();
            var ca = c.detach().requires_grad_();                                           // (1, S, D) leaf
            var l2 = PreservationLoss(zt, d.T, ca, frozenGradient: both);
            value = l2.ToDouble();
            if (!double.IsFinite(value)) break;
            var g = Guarded.grad(l2, ca);
            var gNorm = g.norm().ToDouble();
            if (!(gNorm > 0) || !double.IsFinite(gNorm)) continue;                         // θ′ = θ: L2 is flat, nothing to climb
            using var _ = no_grad();
            c.add_(g, Config.pgd_lr * c.norm().ToDouble() / gNorm);                             // c_a += lr·g/‖g‖·‖c_a‖
        }
        return new ErasureStep(step, AscentPhase, concept, d.TEnc, d.T, null, value, value, double.IsFinite(value))
        { Drift = Drift(d.Concept) };
    }

    public override JsonObject Describe() => new()
    {
        ["drift"] = new JsonObject(Config.erase.Select((c, i) => KeyValuePair.Create(c, (JsonNode?)Drift(i)))),
    };

    public override void Dispose()
    {
        foreach (var t in adversarial) t.Dispose();
        foreach (var t in initial) t.Dispose();
        base.Dispose();
    }
}
