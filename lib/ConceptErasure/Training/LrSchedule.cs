// LrSchedule.cs — learning-rate schedules as pure functions of the (1-based) step, so a resumed run computes the
// same rate as an uninterrupted one without storing scheduler state. Apply sets it on every parameter group of a
// TorchSharp optimiser before the step.
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public abstract record LrSchedule
{
    public abstract double At(long step);

    /// <summary>Sets the rate for <paramref name="step"/> on every parameter group.</summary>
    public void Apply(optim.Optimizer optimizer, long step)
    {
        var lr = At(step);
        foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
    }

    /// <summary>The rate the optimiser's first parameter group holds now.</summary>
    public static double Current(optim.Optimizer optimizer) => optimizer.ParamGroups.First().LearningRate;

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
