// ErasureFigures.cs — the before/after picture of an erasure: one row per concept, one block of columns per model
// (the original and one or more erased UNets), every model drawing from the same noise, so that any difference in
// a column is the erasure's doing and not the seed's.
using ConceptErasure.Data;
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Figures;

public static class ErasureFigures
{
    /// <summary>Rows: concepts (prompt "an emoji of a …"); columns: <paramref name="seeds"/> images per model, the
    /// models side by side. Concept i uses seeds seed + 1000·i … for every model.</summary>
    public static ImageGrid Compare(FoundationModel model, IReadOnlyList<(string name, UNet2DConditionModel unet)> models,
        IReadOnlyList<string> concepts, int seeds, SamplingOptions sampling, ulong seed = 7000, string title = "",
        string template = "an emoji of {a} {concept}")
    {
        if (models.Count == 0 || concepts.Count == 0 || seeds < 1) throw new ArgumentException("need at least one model, one concept and one seed");
        using var scope = NewDisposeScope();
        var pipe = new StableDiffusionPipeline(model);
        var rows = new List<Tensor>();
        var captions = new List<string>();
        for (var i = 0; i < concepts.Count; i++)
        {
            var prompt = template.Replace("{a}", Captions.Article(concepts[i])).Replace("{concept}", concepts[i]);
            foreach (var (name, unet) in models)
            {
                rows.Add(QualityGate.Generate(pipe, unet, prompt, seeds, sampling, seed + 1000UL * (ulong)i));   // (seeds, 3, H, W)
                captions.AddRange(Enumerable.Range(0, seeds).Select(k => $"{concepts[i]} · {name} · seed {seed + 1000UL * (ulong)i + (ulong)k}"));
            }
        }
        var columns = models.Count * seeds;
        return torch.cat(rows.ToArray()).ToGrid(title, columns, captions)
            .WithRowLabels(concepts.ToArray())
            .WithColumnLabels(models.SelectMany(m => Enumerable.Range(0, seeds).Select(k => k == 0 ? m.name : "")).ToArray());
    }
}
