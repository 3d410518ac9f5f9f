// TrainingLoop.cs — the loop every pretraining command shares: learning-rate schedule, one step, progress
// line, atomic checkpoints every N steps, exact resumption, NaN guard, and a clean stop on Ctrl-C (the state
// of the last finished step is checkpointed, then OperationCanceledException says the run did not finish). The
// model-specific work is the `step` callback. TrainingRun.Check refuses a bad start before any setup.
using System.Text.Json.Nodes;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed record LoopOptions
{
    public long steps { get; init; } = 1000;            // total optimiser steps of the run
    public int batch_size { get; init; } = 64;          // images per step (for the img/s figure)
    public int checkpoint_every { get; init; } = 200;   // steps between checkpoints (a killed run loses at most this many)
    public int log_every { get; init; } = 25;           // steps between progress lines
    public void Validate()
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "steps must be ≥ 1");
        if (batch_size < 1) throw new ArgumentOutOfRangeException(nameof(batch_size), "batch size must be ≥ 1");
        if (checkpoint_every < 1 || log_every < 1) throw new ArgumentOutOfRangeException(nameof(checkpoint_every), "intervals must be ≥ 1");
    }
}

public sealed class NonFiniteLossException(string message) : Exception(message);

public static class TrainingLoop
{
    /// <summary>Runs steps (resumed from the run folder's checkpoint when resume is set) and returns the last step done.</summary>
    /// <param name="step">does one optimiser step for the given 1-based step number and returns named scalars; "loss" is checked for NaN/inf</param>
    public static long Run(string runDir, LoopOptions o, Checkpoint.Parts parts, OptimizerHelper optimizer, LrSchedule schedule,
        Func<long, IReadOnlyDictionary<string, double>> step, bool resume, TextWriter log, CancellationToken cancel = default,
        Func<JsonObject>? extraState = null)
    {
        o.Validate();
        Directory.CreateDirectory(runDir);
        var ckpt = new Checkpoint(runDir);
        long done = 0;
        if (resume)
        {
            if (!ckpt.Exists) throw new InvalidOperationException($"--resume: {runDir} holds no checkpoint to continue");
            (done, _) = ckpt.Load(parts);
            log.WriteLine($"resumed from {ckpt.Folder} at step {done}");
        }
        else if (ckpt.Exists)
            throw new InvalidOperationException($"{runDir} already holds a checkpoint: pass --resume to continue it, or choose another folder");

        var progress = new Progress(o.steps, log, done);
        var sums = new Dictionary<string, double>();
        var count = 0;
        void Save(long s) => ckpt.Save(s, parts, extraState?.Invoke());
        while (done < o.steps)
        {
            if (cancel.IsCancellationRequested)
            {
                Save(done);
                throw new OperationCanceledException($"stopped at step {done} of {o.steps}; checkpoint written to {ckpt.Folder} — continue with --resume");
            }
            var s = done + 1;
            schedule.Apply(optimizer, s);
            IReadOnlyDictionary<string, double> values;
            using (NewDisposeScope()) values = step(s);
            if (values.TryGetValue("loss", out var loss) && !double.IsFinite(loss))
                throw new NonFiniteLossException($"loss became {loss} at step {s}; the last checkpoint ({ckpt.Folder}) holds the last good state");
            done = s;
            foreach (var (k, v) in values) sums[k] = sums.GetValueOrDefault(k) + v;
            count++;
            if (done % o.log_every == 0 || done == o.steps)
            {
                var mean = sums.ToDictionary(kv => kv.Key, kv => kv.Value / count);
                mean["lr"] = LrSchedule.Current(optimizer);
                progress.Report(done, o.batch_size, mean);
                sums.Clear();
                count = 0;
            }
            if (done % o.checkpoint_every == 0 || done == o.steps) Save(done);
        }
        return done;
    }
}
