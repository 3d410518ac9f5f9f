// ParameterRegularisation.cs — erasure with a penalty on how far θ′ moves from θ.
//
// Purpose. The second classic remedy for collateral damage (Bui et al., NeurIPS 2024, Eq. 3, citing Forget-Me-Not
// and TIME) does not name any concept to keep: it keeps the erased model's parameters close to the original's, on
// the premise that a small change in parameters is a small change in behaviour for everything else. Only the
// trained group can move, so the penalty sums over it:
//
//   L = L1 + λ · ‖θ′ − θ‖²₂          (Bui et al. Eq. 3; a sum of squares over the trained group, not a mean)
//
// with L1 as in Esd.cs.
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class ParameterRegularisation : ErasureMethod
{
    readonly IReadOnlyList<(Parameter trained, Parameter original)> pairs;

    public ParameterRegularisation(Models.FoundationModel model, ErasureConfig config) : base(model, config)
    {
        var frozen = Frozen.state_dict();
        pairs = TrainedParameters.Select(p => (p.parameter, (Parameter)frozen[p.name])).ToList();
    }

    /// <summary>‖θ′ − θ‖² over the trained group, with gradient into θ′.</summary>
    public Tensor Distance()
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        foreach (var (trained, original) in pairs)
        {
            var d = (trained - original).square().sum();
            sum = sum is null ? d : sum + d;
        }
        return sum!.MoveToOuterDisposeScope();
    }

    /// <summary>L1 and L2 = ‖θ′ − θ‖² of one draw, with gradient into θ′.</summary>
    public (Tensor zt, Tensor l1, Tensor l2) Losses(ErasureDraw d)
    {
        var concept = Config.erase[d.Concept];
        var zt = SampleLatents(d, Context(concept));          // 1. z_t under c_e      (1, C, h, w)
        var l1 = ErasureLoss(zt, d.T, concept);               // 2. L1
        var l2 = Distance();                                  // 3. ‖θ′ − θ‖²
        return (zt, l1, l2);
    }

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        var d = Draw();
        var (_, l1, l2) = Losses(d);
        var loss = l1 + l2 * Lambda;                          // 4. L = L1 + λ·‖θ′ − θ‖²
        var value = loss.ToDouble();
        var applied = UpdateTrainable(loss, value);
        return [ThetaRow(step, d, l1.ToDouble(), l2.ToDouble(), value, applied)];
    }
}
