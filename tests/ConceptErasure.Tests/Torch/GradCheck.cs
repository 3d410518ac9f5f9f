// GradCheck.cs — compares autograd gradients with central finite differences in float64.
//
// For a function f of several tensors, the scalar L = Σ w ⊙ f(x) with fixed random weights w is
// differentiated analytically (autograd.grad) and numerically ((L(x+h) − L(x−h)) / 2h per element).
// In float64 with h = 1e-6 the two agree to ~1e-8 for smooth functions; we require 1e-5 relative.
using ConceptErasure.Torch;

namespace ConceptErasure.Tests.Torch;

internal static class GradCheck
{
    /// <summary>Checks d(Σ w·f(x))/dx for every input. Inputs are given as (values, shape) pairs.</summary>
    public static void Check(Func<Tensor[], Tensor> f, params (double[] values, long[] shape)[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1234);
        Tensor Make(int k, double[] vals) => torch.tensor(vals, inputs[k].shape).requires_grad_();

        var xs = inputs.Select((inp, k) => Make(k, inp.values)).ToArray();
        var y = f(xs);
        var w = torch.randn(y.shape, g, ScalarType.Float64);
        var loss = (y * w).sum();
        var analytic = torch.autograd.grad([loss], xs).Select(t => t!.ToDoubleArray()).ToArray();
        var weights = w.ToDoubleArray();

        double L(int k, double[] vals)
        {
            using var s = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var args = inputs.Select((inp, j) => j == k ? torch.tensor(vals, inp.shape) : torch.tensor(inp.values, inp.shape)).ToArray();
            var yy = f(args).ToDoubleArray();
            double acc = 0;
            for (var i = 0; i < yy.Length; i++) acc += yy[i] * weights[i];
            return acc;
        }

        const double h = 1e-6;
        for (var k = 0; k < inputs.Length; k++)
        {
            var vals = (double[])inputs[k].values.Clone();
            for (var i = 0; i < vals.Length; i++)
            {
                var orig = vals[i];
                vals[i] = orig + h; var up = L(k, vals);
                vals[i] = orig - h; var down = L(k, vals);
                vals[i] = orig;
                var numeric = (up - down) / (2 * h);
                var a = analytic[k][i];
                var tol = 1e-5 * Math.Max(1, Math.Abs(numeric));
                Assert.True(Math.Abs(a - numeric) <= tol,
                    $"input {k}, element {i}: autograd {a:G10} vs finite difference {numeric:G10}");
            }
        }
    }

    public static (double[] values, long[] shape) Rand(ulong seed, params long[] shape) => RandIn(seed, -1, 1, shape);

    public static (double[] values, long[] shape) RandIn(ulong seed, double lo, double hi, params long[] shape)
    {
        using var g = new Generator(seed);
        using var t = torch.rand(shape, g, ScalarType.Float64);
        return (t.ToDoubleArray().Select(v => lo + (hi - lo) * v).ToArray(), shape);
    }
}
