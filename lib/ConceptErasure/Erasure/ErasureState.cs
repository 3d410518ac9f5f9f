// ErasureState.cs — what a resumed erasure needs to continue exactly where a stopped or killed one was: θ′ and its
// Adam moments, the run's random generator, the draw cache (the current start noise z_T, how many draws it has served,
// and the DDIM trajectories sampled from it — zt_reuse draws share them), and the method's own state (π and its Adam
// for Adversarial Preservation, c_a for PGD). Eraser.cs writes it into the run folder's checkpoint/ every few updates
// (atomically, Training/Checkpoint.cs); with all of it restored the continuation is bit-identical to an uninterrupted
// run (tested).
using System.Text.Json.Nodes;
using ConceptErasure.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public abstract partial class ErasureMethod
{
    /// <summary>Registers the modules, optimisers and generators of the state with a checkpoint.</summary>
    public virtual void AddTo(Checkpoint.Parts parts)
    {
        parts.Modules["theta_prime"] = Trainable;
        parts.Optimizers["theta_prime"] = Optimizer;
        parts.Generators["draws"] = Generator;
    }

    /// <summary>The tensors of the state that are not modules (the draw cache, the method's own), by name; live tensors,
    /// do not dispose.</summary>
    public virtual Dictionary<string, Tensor> StateTensors()
    {
        var t = new Dictionary<string, Tensor>();
        if (startNoise is not null) t["draw/noise"] = startNoise;
        var i = 0;
        foreach (var (_, levels) in trajectories)
        {
            for (var k = 0; k < levels.Count; k++) t[$"draw/trajectory/{i}/{k}"] = levels[k];
            i++;
        }
        return t;
    }

    /// <summary>The scalars of the state (how many draws the start noise has served, the trajectories' keys).</summary>
    public virtual JsonObject StateJson() => new()
    {
        ["draws_on_noise"] = drawsOnNoise,
        ["trajectories"] = new JsonArray(trajectories.Select(kv => (JsonNode)new JsonObject { ["key"] = kv.Key, ["levels"] = kv.Value.Count }).ToArray()),
    };

    /// <summary>Puts back a state captured by StateTensors/StateJson (the modules, optimisers and generators were already
    /// restored by the checkpoint).</summary>
    public virtual void RestoreState(IReadOnlyDictionary<string, Tensor> tensors, JsonObject json)
    {
        ClearTrajectories();
        startNoise?.Dispose();
        startNoise = tensors.TryGetValue("draw/noise", out var noise) ? noise.clone().DetachFromDisposeScope() : null;
        startNoiseKey = startNoise is null ? null : ValueKey(startNoise);
        drawsOnNoise = (int?)json["draws_on_noise"] ?? 0;
        var i = 0;
        foreach (var node in json["trajectories"]?.AsArray() ?? [])
        {
            var key = (string)node!["key"]!;
            var levels = (int)node["levels"]!;
            trajectories[key] = Enumerable.Range(0, levels).Select(k => Need(tensors, $"draw/trajectory/{i}/{k}").clone().DetachFromDisposeScope()).ToList();
            i++;
        }
    }

    protected static Tensor Need(IReadOnlyDictionary<string, Tensor> tensors, string name) =>
        tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"the erasure checkpoint has no tensor '{name}'");

    /// <summary>Copies a saved value into a live tensor of the same shape (parameters keep their identity, so the
    /// optimisers that hold them stay valid).</summary>
    protected static void CopyInto(Tensor live, Tensor saved, string name)
    {
        if (!live.shape.SequenceEqual(saved.shape))
            throw new InvalidDataException($"the erasure checkpoint's '{name}' has shape [{string.Join(", ", saved.shape)}], the run expects [{string.Join(", ", live.shape)}]");
        using var _ = no_grad();
        live.copy_(saved);
    }
}
