// Uce.cs — Unified Concept Editing (Gandikota et al., "Unified Concept Editing in Diffusion Models", WACV 2024), the
// closed-form baseline of the paper's Table 1 (ESR-1 100, PSR-1 24.4 on Imagenette).
//
// Purpose. The text reaches the UNet only through the cross-attention projections W ∈ {to_k, to_v} of every attn2.
// UCE edits each W once, in closed form, so that the token embeddings c_e of the erased prompts are mapped where the
// original W maps the target prompt's tokens (v*_e = W c_t, target "" by default), while the preserved prompts' tokens
// c_p keep their outputs and W′ stays near W elsewhere:
//
//   W′ = argmin Σ_e ‖W′c_e − v*_e‖² + λ Σ_p ‖W′c_p − W c_p‖² + ε ‖W′ − W‖²_F
//      = (Σ_e v*_e c_eᵀ + λ Σ_p W c_p c_pᵀ + ε W) (Σ_e c_e c_eᵀ + λ Σ_p c_p c_pᵀ + ε I)⁻¹
//
// (the ε W term is the pull toward W of the authors' code, "lamb"; without it the ridge would pull W′ toward zero).
// Every token position of the text encoder's output is one c (the UNet attends to all of them), paired position by
// position with the target's. No gradient steps: one "update" of seconds on a CPU.
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public sealed class Uce(Models.FoundationModel model, ErasureConfig config) : ErasureMethod(model, config)
{
    public override int Updates => 1;

    /// <summary>The closed form for one projection: W (O, D); erased tokens C_e (n_e, D) with targets V (n_e, O);
    /// preserved tokens C_p (n_p, D), weight λ; ridge ε toward W. Computed in float64; returns W′ (O, D) in W's dtype.</summary>
    public static Tensor Solve(Tensor w, Tensor erased, Tensor targets, Tensor? preserved, double lambda, double ridge)
    {
        using var scope = NewDisposeScope();
        var W = w.to(ScalarType.Float64);
        var Ce = erased.to(ScalarType.Float64);
        var V = targets.to(ScalarType.Float64);
        var D = W.size(1);
        var a = V.T.mm(Ce) + W * ridge;                                              // Σ_e v*_e c_eᵀ + ε W        (O, D)
        var b = Ce.T.mm(Ce) + eye(D, dtype: ScalarType.Float64) * ridge;                    // Σ_e c_e c_eᵀ + ε I         (D, D)
        if (preserved is not null && preserved.size(0) > 0 && lambda > 0)
        {
            var Cp = preserved.to(ScalarType.Float64);
            var gram = Cp.T.mm(Cp);                                                   // Σ_p c_p c_pᵀ              (D, D)
            a = a + W.mm(gram) * lambda;
            b = b + gram * lambda;
        }
        var solved = linalg.solve(b, a.T).T;                                          // W′ = a b⁻¹ (b symmetric)
        return solved.to(w.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Token vectors of prompts, (n·S, D): every position of the text encoder's output.</summary>
    Tensor Tokens(IEnumerable<string> prompts) =>
        cat(prompts.Select(p => Context(p).squeeze(0)).ToArray(), 0);

    public override IReadOnlyList<ErasureStep> Step(int step)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var erased = Tokens(Config.erase);                                            // (n_e·S, D)
        var target = Tokens(Config.erase.Select(Config.TargetOf));                   // the target's tokens, position by position
        var preserved = Config.preserve.Count > 0 ? Tokens(Config.preserve) : null;
        double erasedBefore = 0, erasedAfter = 0, preservedShift = 0;
        var layers = 0;
        foreach (var (name, p) in TrainedParameters.Where(p => p.name.EndsWith(".to_k.weight") || p.name.EndsWith(".to_v.weight")))
        {
            var v = target.mm(p.T);                                                   // v*_e = W c_t              (n_e·S, O)
            var updated = Solve(p, erased, v, preserved, Lambda, Config.uce_ridge);
            erasedBefore += (erased.mm(p.T) - v).square().mean().ToDouble();
            erasedAfter += (erased.mm(updated.T) - v).square().mean().ToDouble();
            if (preserved is not null) preservedShift += (preserved.mm(updated.T) - preserved.mm(p.T)).square().mean().ToDouble();
            p.copy_(updated);
            layers++;
        }
        // L1: the erased tokens' distance to their targets after the edit; L2: how far the preserved tokens moved
        var l1 = erasedAfter / Math.Max(1, layers);
        var l2 = preserved is null ? (double?)null : preservedShift / Math.Max(1, layers);
        LastEdit = new JsonObject { ["layers"] = layers, ["erased_mse_before"] = erasedBefore / Math.Max(1, layers), ["erased_mse_after"] = l1, ["preserved_mse_shift"] = l2 };
        var d = new ErasureDraw(0, 0, 0, zeros(1));                                   // no draw: nothing is sampled
        return [ThetaRow(step, d, l1, l2, l1 + Lambda * (l2 ?? 0), applied: true)];
    }

    JsonObject? LastEdit { get; set; }

    public override JsonObject? Describe() => LastEdit is null ? null : new JsonObject { ["uce"] = LastEdit.DeepClone() };
}
