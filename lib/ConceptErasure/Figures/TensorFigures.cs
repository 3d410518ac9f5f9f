// TensorFigures.cs — bridges from tensors and the emoji data to figures, so notebook cells stay one line:
// a batch of images (B, 3, H, W) in [−1, 1] becomes an ImageGrid with captions.
using ConceptErasure.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Figures;

public static class TensorFigures
{
    /// <summary>An image grid of a (B, 3, H, W) batch in [−1, 1], row-major with the given column count.</summary>
    public static ImageGrid ToGrid(this Tensor images, string title = "", int columns = 0, IReadOnlyList<string>? captions = null)
    {
        if (images.dim() != 4 || images.size(1) != 3) throw new ArgumentException($"expected (B, 3, H, W) images, got [{string.Join(", ", images.shape)}]");
        int b = (int)images.size(0), h = (int)images.size(2), w = (int)images.size(3);
        var pixels = images.detach().contiguous().data<float>().ToArray();
        var grid = new ImageGrid(title, columns == 0 ? b : columns);
        for (var i = 0; i < b; i++) grid.Add(pixels.AsSpan(i * 3 * h * w, 3 * h * w), h, w, captions is null ? "" : captions[i]);
        return grid;
    }

    /// <summary>An image grid of real sprites: one row per concept, one column per style.</summary>
    public static ImageGrid SpriteGrid(EmojiData data, IReadOnlyList<string> concepts, IReadOnlyList<EmojiStyle> styles, string title = "")
    {
        var set = data.Images(concepts.Select(c => data.Index[c]).ToList(), styles);
        var grid = new ImageGrid(title, styles.Count);
        var byKey = Enumerable.Range(0, set.Count).ToDictionary(i => (set.Samples[i].Concept.Name, set.Samples[i].Style.Name));
        foreach (var c in concepts)
            foreach (var s in styles)
                if (byKey.TryGetValue((c, s.Name), out var i)) grid.Add(set.Image(i), set.Size, set.Size, $"{c} ({s.Name})");
        return grid.WithColumnLabels(styles.Select(s => s.Name).ToArray());
    }
}
