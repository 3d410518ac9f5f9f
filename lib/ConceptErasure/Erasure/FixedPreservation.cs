// FixedPreservation.cs — erasure with a preservation loss on a fixed list of concepts.
//
// Purpose. The first remedy for the collateral damage of ESD (Esd.cs) is to tell θ′ what to leave alone: for a
// given list of preserved prompts c_p, keep θ′'s output equal to θ's. Bui et al. (NeurIPS 2024, Eq. 2) list this
// as the approach of ESD's and their own earlier work, and their Section 3 experiment erases "garbage truck"
// while preserving the fixed concepts " ", "lexus" or "road" — on the same z_t, weight 1 — to show that which
// concept is preserved matters ("road" beats " "), which motivates choosing it adversarially
// (AdversarialPreservation.cs):
//
//   L = L1 + λ · E_{c_p} ‖ε_θ′(z_t, c_p) − ε_θ(z_t, c_p)‖²          (Bui et al. Eq. 2, averaged over the list)
//
// with L1 as in Esd.cs and z_t the latent sampled under c_e. All preserved prompts are evaluated in one batch at
// every iteration, so the term is the mean over the list rather than a sampled prompt.
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class FixedPreservation(Models.FoundationModel model, ErasureConfig config) : ErasureMethod(model, config)
{
    /// <summary>L1 and L2 of one draw, with gradient into θ′.</summary>
    public (Tensor zt, Tensor l1, Tensor l2) Losses(ErasureDraw d)
    {
        var concept = Config.erase[d.Concept];
        var zt = SampleLatents(d, Context(concept));                                  // 1. z_t under c_e           (1, C, h, w)
        var l1 = ErasureLoss(zt, d.T, concept);                                       // 2. L1
        var P = Config.preserve.Count;
        var cp = Model.Prompts.Encode(Config.preserve);                               //    τ(c_p)                   (P, S, D)
        var l2 = PreservationLoss(zt.expand(P, -1, -1, -1).contiguous(), d.T, cp);    // 3. L2 on the same z_t      (P, C, h, w)
        return (zt, l1, l2);
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        var d = Draw();
        var (_, l1, l2) = Losses(d);
        var loss = l1 + l2 * Lambda;                                                  // 4. L = L1 + λ·L2
        var value = loss.ToDouble();
        var applied = UpdateTrainable(loss, value);
        return [ThetaRow(step, d, l1.ToDouble(), l2.ToDouble(), value, applied)];
    }
}
