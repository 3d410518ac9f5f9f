// EmbeddingTrajectory.cs — where the adversary goes during an erasure, for the paper's Fig. 4 (Bui et al., NeurIPS
// 2024, §4.1 "Challenges of searching in continuous space"): PGD's continuous c_a is copied every k θ′ updates
// (update 0 is its start, τ(c_e)), so the notebooks can draw each recorded c_a with the original model and measure
// how far it left the real words. The Gumbel variant needs no recorder: its sampled candidate and argmax π are words,
// and every update's are in the run's history (ErasureStep.Candidate / TopCandidate).
//
// Use: var trajectory = new EmbeddingTrajectory(model, config, every: 10);
//      Eraser.Run(model, config, onIteration: trajectory.Record);
using ConceptErasure.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

/// <summary>One recorded c_a: the θ′ update after which it was taken (0 = before the first) and a copy (1, S, D).</summary>
public sealed record EmbeddingSnapshot(int Update, string Concept, Tensor Context);

public sealed class EmbeddingTrajectory : IDisposable
{
    readonly List<EmbeddingSnapshot> snapshots = [];
    readonly IReadOnlyList<string> erase;

    public int Every { get; }

    /// <param name="every">θ′ updates between snapshots (≥ 1)</param>
    public EmbeddingTrajectory(FoundationModel model, ErasureConfig config, int every)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), "snapshots need at least one update between them");
        if (config.method != ErasureConfig.Methods.AdversarialPgd)
            throw new ArgumentException($"only {ErasureConfig.Methods.AdversarialPgd} has a continuous c_a to record; {config.method}'s candidates are in its history");
        Every = every;
        erase = config.erase;
        using var _ = no_grad();
        foreach (var c in erase) snapshots.Add(new EmbeddingSnapshot(0, c, model.Prompts.Encode(c).clone().DetachFromDisposeScope()));   // c_a,0 = τ(c_e)
    }

    /// <summary>Snapshots in order of update, then of erased concept (live tensors owned by the trajectory).</summary>
    public IReadOnlyList<EmbeddingSnapshot> Snapshots => snapshots;

    /// <summary>The onIteration callback of Eraser.Run: after every k-th applied θ′ update, copies each c_a.</summary>
    public void Record(IReadOnlyList<ErasureStep> rows, ErasureMethod method)
    {
        if (method is not AdversarialPgd pgd) throw new ArgumentException($"the trajectory records {nameof(AdversarialPgd)} runs, got {method.GetType().Name}");
        var theta = rows.FirstOrDefault(r => r.Phase == ErasureMethod.ThetaPhase && r.Applied);
        if (theta is null || theta.Step % Every != 0) return;
        using var _ = no_grad();
        for (var i = 0; i < erase.Count; i++)
            snapshots.Add(new EmbeddingSnapshot(theta.Step, erase[i], pgd.Embeddings[i].detach().clone().DetachFromDisposeScope()));
    }

    public void Dispose()
    {
        foreach (var s in snapshots) s.Context.Dispose();
        snapshots.Clear();
    }
}
