// Optimizers.cs — SGD, Adam and AdamW over an explicit list of parameters, plus gradient clipping and
// learning-rate schedules. The update rules are written out as in the papers:
//   SGD (momentum μ):  b ← μ·b + g;  θ ← θ − lr·b
//   Adam (Kingma & Ba 2015):  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
//   AdamW (Loshchilov & Hutter 2019): Adam with decoupled decay θ ← θ − lr·λ·θ before the Adam step;
//   plain Adam's weight_decay instead adds λθ to the gradient (L2 regularisation).
// The state (moments, step count) can be exported and restored so a resumed run continues bit-identically.
namespace ConceptErasure.Torch.optim;

public abstract class Optimizer : IDisposable
{
    protected readonly IReadOnlyList<Parameter> parameters;
    public double lr { get; set; }
    public long step_count { get; protected set; }

    protected Optimizer(IEnumerable<Parameter> parameters, double lr)
    {
        this.parameters = parameters.ToList();
        if (this.parameters.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
        if (!(lr > 0)) throw new ArgumentOutOfRangeException(nameof(lr), $"learning rate must be > 0, got {lr}");
        this.lr = lr;
    }

    public IReadOnlyList<Parameter> Parameters => parameters;

    public void zero_grad()
    {
        foreach (var p in parameters) p.zero_grad();
    }

    /// <summary>One update from the accumulated gradients (parameters without a gradient are skipped).</summary>
    public void step()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        step_count++;
        for (var i = 0; i < parameters.Count; i++)
        {
            using var g = parameters[i].grad;
            if (g is null) continue;
            update(i, parameters[i], g);
        }
    }
    protected abstract void update(int index, Parameter p, Tensor grad);

    /// <summary>Optimizer state as named tensors (for checkpoints): "step" plus per-parameter slots.</summary>
    public virtual Dictionary<string, Tensor> state_dict() => new() { ["step"] = torch.tensor(new long[] { step_count }).DetachFromDisposeScope() };
    public virtual void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var s)) throw new ArgumentException("optimizer state has no 'step'");
        step_count = (long)s.item();
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public sealed class SGD : Optimizer
{
    readonly double momentum, weight_decay;
    readonly Tensor?[] buffers;

    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double weight_decay = 0) : base(parameters, lr)
    {
        (this.momentum, this.weight_decay) = (momentum, weight_decay);
        buffers = new Tensor?[this.parameters.Count];
    }

    protected override void update(int i, Parameter p, Tensor g)
    {
        var d = weight_decay != 0 ? g + p * weight_decay : g.alias();
        if (momentum != 0)
        {
            if (buffers[i] is null) buffers[i] = d.clone().DetachFromDisposeScope();
            else buffers[i]!.mul_(momentum).add_(d);
            d = buffers[i]!;
        }
        p.add_(d, -lr);
    }

    public override void Dispose() { foreach (var b in buffers) b?.Dispose(); base.Dispose(); }
}

public class Adam : Optimizer
{
    readonly double beta1, beta2, eps;
    protected readonly double weight_decay;
    readonly bool decoupled;
    readonly Tensor?[] m, v;

    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0) : this(parameters, lr, beta1, beta2, eps, weight_decay, decoupled: false) { }

    protected Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
        : base(parameters, lr)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "betas must be in [0, 1)");
        (this.beta1, this.beta2, this.eps, this.weight_decay, this.decoupled) = (beta1, beta2, eps, weight_decay, decoupled);
        m = new Tensor?[this.parameters.Count];
        v = new Tensor?[this.parameters.Count];
    }

    protected override void update(int i, Parameter p, Tensor g)
    {
        if (weight_decay != 0)
        {
            if (decoupled) p.mul_(1 - lr * weight_decay);          // AdamW: θ ← θ(1 − lr·λ)
            else g = g + p * weight_decay;                          // Adam:  g ← g + λθ
        }
        m[i] ??= g.zeros_like().DetachFromDisposeScope();
        v[i] ??= g.zeros_like().DetachFromDisposeScope();
        m[i]!.mul_(beta1).add_(g, 1 - beta1);                       // m ← β₁m + (1−β₁)g
        v[i]!.mul_(beta2).addcmul_(g, g, 1 - beta2);                // v ← β₂v + (1−β₂)g²
        var bc1 = 1 - Math.Pow(beta1, step_count);
        var bc2 = 1 - Math.Pow(beta2, step_count);
        var denom = (v[i]!.sqrt() / Math.Sqrt(bc2)).add_(eps);      // √v̂ + ε
        p.addcdiv_(m[i]!, denom, -lr / bc1);                        // θ ← θ − lr·m̂/(√v̂ + ε)
    }

    public override Dictionary<string, Tensor> state_dict()
    {
        var d = base.state_dict();
        for (var i = 0; i < parameters.Count; i++)
        {
            if (m[i] is { } mi) d[$"{i}.exp_avg"] = mi;
            if (v[i] is { } vi) d[$"{i}.exp_avg_sq"] = vi;
        }
        return d;
    }
    public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        base.load_state_dict(state);
        for (var i = 0; i < parameters.Count; i++)
        {
            m[i]?.Dispose(); v[i]?.Dispose();
            m[i] = state.TryGetValue($"{i}.exp_avg", out var a) ? a.to(parameters[i].dtype, parameters[i].device).clone().DetachFromDisposeScope() : null;
            v[i] = state.TryGetValue($"{i}.exp_avg_sq", out var b) ? b.to(parameters[i].dtype, parameters[i].device).clone().DetachFromDisposeScope() : null;
        }
    }
    public override void Dispose()
    {
        foreach (var t in m) t?.Dispose();
        foreach (var t in v) t?.Dispose();
        base.Dispose();
    }
}

public sealed class AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
    double weight_decay = 1e-2) : Adam(parameters, lr, beta1, beta2, eps, weight_decay, decoupled: true);

/// <summary>Learning-rate schedules as pure functions of the step (1-based), applied with Apply(optimizer).</summary>
public abstract record LrSchedule
{
    public abstract double At(long step);
    public void Apply(Optimizer optimizer) => optimizer.lr = At(optimizer.step_count + 1);

    /// <summary>Constant rate after a linear warm-up from 0 over warmup steps.</summary>
    public sealed record Constant(double Peak, long Warmup = 0) : LrSchedule
    {
        public override double At(long step) => Warmup > 0 && step < Warmup ? Peak * step / Warmup : Peak;
    }
    /// <summary>Linear warm-up to Peak, then cosine decay to Floor at Total steps.</summary>
    public sealed record WarmupCosine(double Peak, long Warmup, long Total, double Floor = 0) : LrSchedule
    {
        public override double At(long step)
        {
            if (Warmup > 0 && step < Warmup) return Peak * step / Warmup;
            var progress = Math.Clamp((double)(step - Warmup) / Math.Max(1, Total - Warmup), 0, 1);
            return Floor + (Peak - Floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
        }
    }
}

public static class utils
{
    /// <summary>Rescales the gradients so that their joint L2 norm is ≤ max_norm; returns the norm before.</summary>
    public static unsafe double clip_grad_norm_(IEnumerable<Parameter> parameters, double max_norm)
    {
        var hs = parameters.Select(p => p.Handle).ToArray();
        fixed (nint* p = hs)
        {
            var norm = Native.ct_clip_grad_norm(p, hs.Length, max_norm);
            if (norm < 0) throw Native.LastError("clip_grad_norm_");
            return norm;
        }
    }
}
