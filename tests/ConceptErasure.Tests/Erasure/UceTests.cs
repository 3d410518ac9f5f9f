// UCE's closed form (Erasure/Uce.cs) against an independently solved least-squares problem, its two limits (a heavy
// preservation weight keeps the preserved outputs, a light one maps the erased tokens onto their targets), and the
// edit on a tiny model: one update that changes the attn2 to_k / to_v weights and nothing else.
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using TorchSharp;
using static TorchSharp.torch;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

public class UceTests
{
    static Tensor R(long r, long c, Generator g) => ConceptErasure.Engine.Rng.randn([r, c], g, dtype: ScalarType.Float64);

    [Fact]
    public void TheClosedFormSolvesTheRegularisedLeastSquaresProblem()
    {
        using var scope = NewDisposeScope();
        using var g = ConceptErasure.Engine.Rng.Create(1);
        var (W, Ce, V, Cp) = (R(3, 4, g), R(5, 4, g), R(5, 3, g), R(6, 4, g));
        double lambda = 2, ridge = 0.5;
        var solved = Uce.Solve(W, Ce, V, Cp, lambda, ridge);
        // min ‖A X − B‖ with X = W′ᵀ: rows [C_e; √λ C_p; √ε I] against [V; √λ C_p Wᵀ; √ε Wᵀ], by lstsq
        var A = cat([Ce, Cp * Math.Sqrt(lambda), eye(4, dtype: ScalarType.Float64) * Math.Sqrt(ridge)], 0);
        var B = cat([V, Cp.mm(W.T) * Math.Sqrt(lambda), W.T * Math.Sqrt(ridge)], 0);
        var (x, _, _, _) = linalg.lstsq(A, B);
        Assert.True(allclose(solved, x.T, rtol: 1e-9, atol: 1e-9), $"max |Δ| = {(solved - x.T).abs().max().ToDouble():E2}");
    }

    [Fact]
    public void PreservationWeightTradesTheTwoGoals()
    {
        using var scope = NewDisposeScope();
        using var g = ConceptErasure.Engine.Rng.Create(2);
        var (W, Ce, V, Cp) = (R(8, 16, g), R(3, 16, g), R(3, 8, g), R(4, 16, g));
        var keep = Uce.Solve(W, Ce, V, Cp, lambda: 1e6, ridge: 1e-3);
        Assert.True((keep.mm(Cp.T) - W.mm(Cp.T)).abs().max().ToDouble() < 1e-3 * W.mm(Cp.T).abs().max().ToDouble());
        var erase = Uce.Solve(W, Ce, V, Cp, lambda: 1e-6, ridge: 1e-6);
        Assert.True((erase.mm(Ce.T) - V.T).abs().max().ToDouble() < 1e-3, "erased tokens land on their targets");
    }

    [Fact]
    public void TheEditChangesOnlyCrossAttentionKeysAndValuesInOneUpdate()
    {
        using var model = Create();
        var before = Snapshot(model.Unet);
        using var result = Eraser.Run(model, Config("uce", "cat") with { preserve = ["dog"] });
        Assert.Equal(ErasureStatus.Completed, result.Status);
        Assert.Equal(1, result.IterationsDone);
        var changed = result.Trained.Where(kv => !Serialization.Bytes(kv.Value).SequenceEqual(before[kv.Key])).Select(kv => kv.Key).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, k => Assert.Matches(@"\.attn2\.to_[kv]\.weight$", k));
        Assert.Equal(result.Trained.Keys.Count(k => k.EndsWith(".to_k.weight") || k.EndsWith(".to_v.weight")), changed.Count);
        var facts = result.Manifest["method_facts"]!["uce"]!;
        Assert.True((double)facts["erased_mse_after"]! < (double)facts["erased_mse_before"]!);
    }
}
