// Esd.cs — the naive erasure objective and Erased Stable Diffusion.
//
// Purpose. The simplest way to remove a concept c_e from a text-to-image model is to make the fine-tuned model θ′
// answer the prompt c_e the way the original θ answers a neutral prompt c_n (the empty prompt), so that asking for
// c_e yields whatever "nothing in particular" looks like. ESD (Gandikota et al., "Erasing Concepts from Diffusion
// Models", ICCV 2023) sharpens the target with negative guidance: it moves away from c_e by η times the direction
// that c_e adds to c_n. Bui et al. (NeurIPS 2024, Eq. 1) write the naive form; their released code trains ESD's
// form with η = 1. Both are one loss here, at a z_t sampled with the prompt c_e (ErasureSetup.cs):
//
//   naive:  L1 = ‖ε_θ′(z_t, c_e) − ε_θ(z_t, c_n)‖²                                   (Bui et al. Eq. 1)
//   ESD:    L1 = ‖ε_θ′(z_t, c_e) − [ε_θ(z_t, c_n) − η(ε_θ(z_t, c_e) − ε_θ(z_t, c_n))]‖²
//
// Nothing protects the other concepts: the methods in the other files of this folder add that.
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class Esd(Models.FoundationModel model, ErasureConfig config) : ErasureMethod(model, config)
{
    /// <summary>L1 of one draw, with gradient into θ′: (z_t, L1).</summary>
    public (Tensor zt, Tensor l1) Losses(ErasureDraw d)
    {
        var concept = Config.erase[d.Concept];
        var zt = SampleLatents(d, Context(concept));          // 1. z_t by guided DDIM from z_T under c_e   (1, C, h, w)
        var l1 = ErasureLoss(zt, d.T, concept);               // 2. L1 against the (negatively guided) target
        return (zt, l1);
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        var d = Draw();
        var (_, l1) = Losses(d);
        var value = l1.ToDouble();
        var applied = UpdateTrainable(l1, value);             // 3. Adam step on θ′'s group
        return [ThetaRow(step, d, value, null, value, applied)];
    }
}
