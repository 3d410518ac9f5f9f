// ImageTrajectory.cs — what the model being erased draws while it is erased: the official code's `save_freq`, for the
// paper's collapse analysis (Bui et al., NeurIPS 2024, Appendix B.4, Fig. 5). Every k θ′ updates it draws a fixed
// list of prompts with the current θ′ from the same noise (update 0: before the first update, θ′ = θ), and — for
// adversarial preservation — the word the adversary sampled at that update, so erased concepts, preserved concepts,
// "" and c_a can be laid out over time and compared (Evaluation/ImageMeasures.cs).
//
// Use: using var t = new ImageTrajectory(model, prompts, every: 10, sampling, images: 2, seed: 900);
//      Eraser.Run(model, config, onIteration: t.Record);
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

/// <summary>Images (n, 3, H, W) of one prompt after <paramref name="Update"/> θ′ updates. Role: the caller's label
/// ("erased", "preserved", "neutral"), or "adversary" for the word c_a of the erased concept <paramref name="Of"/>.</summary>
public sealed record ImageSnapshot(int Update, string Prompt, string Role, string? Of, Tensor Images);

public sealed class ImageTrajectory : IDisposable
{
    readonly FoundationModel model;
    readonly StableDiffusionPipeline pipe;
    readonly IReadOnlyList<(string prompt, string role)> prompts;
    readonly SamplingOptions sampling;
    readonly int images;
    readonly ulong seed;
    readonly Func<string, string> template;
    readonly List<ImageSnapshot> snapshots = [];

    public int Every { get; }

    /// <param name="prompts">what to draw at every snapshot, with a role label</param>
    /// <param name="template">how a sampled adversary word becomes a prompt (default: the word itself)</param>
    public ImageTrajectory(FoundationModel model, IReadOnlyList<(string prompt, string role)> prompts, int every, SamplingOptions sampling,
        int images = 1, ulong seed = 900, Func<string, string>? template = null)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), "snapshots need at least one update between them");
        if (images < 1) throw new ArgumentOutOfRangeException(nameof(images), "a snapshot needs at least one image per prompt");
        sampling.Validate();
        (this.model, this.prompts, this.sampling, this.images, this.seed, Every) = (model, prompts, sampling, images, seed, every);
        this.template = template ?? (w => w);
        pipe = new StableDiffusionPipeline(model);
        Draw(0, model.Unet, []);                                                      // update 0: θ′ = θ
    }

    /// <summary>Snapshots in order of update (within one: the prompts in the given order, then the adversary's words).</summary>
    public IReadOnlyList<ImageSnapshot> Snapshots => snapshots;

    /// <summary>The onIteration callback of Eraser.Run: after every k-th applied θ′ update, draws the prompts with θ′.</summary>
    public void Record(IReadOnlyList<ErasureStep> rows, ErasureMethod method)
    {
        var theta = rows.FirstOrDefault(r => r.Phase == ErasureMethod.ThetaPhase && r.Applied);
        if (theta is null || theta.Step % Every != 0) return;
        var words = rows.Where(r => r.Phase == ErasureMethod.ThetaPhase && r.Candidate is not null).Select(r => (r.Concept, r.Candidate!)).ToList();
        Draw(theta.Step, method.Trainable, words);
    }

    void Draw(int update, UNet2DConditionModel unet, IReadOnlyList<(string concept, string word)> words)
    {
        using var _ = no_grad();
        foreach (var (prompt, role) in prompts)
            snapshots.Add(new ImageSnapshot(update, prompt, role, null, Generate(unet, prompt)));
        foreach (var (concept, word) in words)
            snapshots.Add(new ImageSnapshot(update, template(word), "adversary", concept, Generate(unet, template(word))));
    }

    Tensor Generate(UNet2DConditionModel unet, string prompt)
    {
        using var scope = NewDisposeScope();
        var context = model.Prompts.Encode(prompt);                                   // (1, S, D)
        return pipe.Generate(unet, context, images, sampling, seed).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        foreach (var s in snapshots) s.Images.Dispose();
        snapshots.Clear();
    }
}
