// EmojiTrainingSet.cs — the emoji images as training tensors: all sprites of the chosen styles in one (N, 3, 32, 32)
// tensor in [−1, 1], a deterministic held-out split, seeded batch sampling, and the augmentations the judges
// are trained with (shift, scale, blur, noise). Batches are drawn with a Generator whose state is checkpointed,
// so a resumed run sees the same batches an uninterrupted one would.
using ConceptErasure.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed class EmojiTrainingSet : IDisposable
{
    public IReadOnlyList<EmojiSample> Samples { get; }
    /// <summary>(N, 3, 32, 32) in [−1, 1].</summary>
    public Tensor Images { get; }
    public int Count => Samples.Count;

    public EmojiTrainingSet(IReadOnlyList<EmojiSample> samples, Tensor images)
    {
        Samples = samples;
        Images = images.DetachFromDisposeScope();
    }

    public static EmojiTrainingSet FromImages(EmojiImageSet set) =>
        new(set.Samples, torch.tensor(set.Pixels, set.Shape));

    /// <summary>Loads the default styles (twitter, google) and selection (no flags, no skin tones).</summary>
    public static EmojiTrainingSet LoadDefault(TextWriter? log = null)
    {
        var data = EmojiData.Load(log: log);
        return FromImages(data.Images());
    }

    /// <summary>Deterministic split by concept: every <paramref name="every"/>-th concept (in index order) is held out,
    /// with all its styles, so held-out numbers measure generalisation to unseen sprites.</summary>
    public (EmojiTrainingSet train, EmojiTrainingSet heldOut) SplitByConcept(int every = 20)
    {
        var concepts = Samples.Select(s => s.Concept.Name).Distinct().ToList();
        var held = concepts.Where((_, i) => i % every == every - 1).ToHashSet();
        var trainIdx = Enumerable.Range(0, Count).Where(i => !held.Contains(Samples[i].Concept.Name)).ToArray();
        var heldIdx = Enumerable.Range(0, Count).Where(i => held.Contains(Samples[i].Concept.Name)).ToArray();
        return (Subset(trainIdx), Subset(heldIdx));
    }

    /// <summary>The samples of a concept selection: <paramref name="subset"/> concepts (0 = all) from a shuffle seeded
    /// with <paramref name="seed"/>, plus every concept of <paramref name="include"/>; then without every concept whose
    /// name contains an excluded one as whole words ("dog" removes "dog" and "hot dog": no caption names it). Returns the
    /// set and the concepts it removed for <paramref name="exclude"/>. Unknown concept names are errors.</summary>
    public (EmojiTrainingSet set, IReadOnlyList<string> excluded) Select(int subset, IReadOnlyCollection<string> include, IReadOnlyCollection<string> exclude, ulong seed)
    {
        var concepts = Samples.Select(s => s.Concept.Name).Distinct().ToList();
        var known = concepts.ToHashSet();
        foreach (var c in include.Concat(exclude))
            if (!known.Contains(c)) throw new ArgumentException($"no concept '{c}' in the training data (give its exact name)");
        if (subset < 0 || subset > concepts.Count) throw new ArgumentOutOfRangeException(nameof(subset), $"subset must lie in [0, {concepts.Count}], got {subset}");
        var keep = concepts.ToHashSet();
        if (subset > 0)
        {
            var order = concepts.ToArray();
            new Random((int)(seed % int.MaxValue)).Shuffle(order);
            keep = include.ToHashSet();
            foreach (var c in order) { if (keep.Count >= Math.Max(subset, include.Count)) break; keep.Add(c); }
        }
        static string[] Words(string name) => name.ToLowerInvariant().Split([' ', ':', ',', '-', '(', ')', '.', '’', '\''], StringSplitOptions.RemoveEmptyEntries);
        static bool Contains(string[] name, string[] part) =>
            Enumerable.Range(0, name.Length - part.Length + 1).Any(i => name.AsSpan(i, part.Length).SequenceEqual(part));
        var parts = exclude.Select(Words).ToList();
        var excluded = concepts.Where(c => parts.Any(p => Contains(Words(c), p))).ToList();
        keep.ExceptWith(excluded);
        var idx = Enumerable.Range(0, Count).Where(i => keep.Contains(Samples[i].Concept.Name)).ToArray();
        if (idx.Length == 0) throw new ArgumentException("the concept selection keeps no sprite");
        return (Subset(idx), excluded);
    }

    public EmojiTrainingSet Subset(long[] indices)
    {
        using var idx = torch.tensor(indices);
        return new EmojiTrainingSet(indices.Select(i => Samples[(int)i]).ToList(), Images.index_select(0, idx));
    }
    EmojiTrainingSet Subset(int[] indices) => Subset(indices.Select(i => (long)i).ToArray());

    /// <summary>B random indices (with replacement) from the generator.</summary>
    public long[] SampleIndices(int batch, Generator g)
    {
        using var t = Rng.randint(0, Count, [batch], g);
        return t.data<long>().ToArray();
    }

    public Tensor Batch(long[] indices)
    {
        using var idx = torch.tensor(indices);
        return Images.index_select(0, idx);
    }

    public void Dispose() => Images.Dispose();
}

/// <summary>Image augmentations for the judges: random shift (±shift px, white fill), random scale (zoom out/in by up
/// to ±scale, white fill), blur (resample through a smaller size) and Gaussian noise — all drawn from a generator.</summary>
public static class Augment
{
    public static Tensor Apply(Tensor images, Generator g, int shift = 3, double scale = 0.15, double blurProbability = 0.3, double noise = 0.08)
    {
        using var scope = NewDisposeScope();
        long B = images.size(0), H = images.size(2), W = images.size(3);
        using var r = Rng.rand([B, 5], g);
        var u = r.ToDoubles();
        var padded = nn.functional.pad(images, [shift, shift, shift, shift], value: 1.0);   // white border
        var outs = new List<Tensor>((int)B);
        for (var i = 0; i < B; i++)
        {
            var x = padded.narrow(0, i, 1);
            // 1. scale: resize the padded canvas, then crop/pad back around the centre
            var s = 1 + scale * (2 * u[i * 5] - 1);
            var size = (long)Math.Round((H + 2 * shift) * s);
            x = Resize(x, size, size);
            if (size < H + 2 * shift)
            {
                var p = H + 2 * shift - size;
                x = nn.functional.pad(x, [p / 2, p - p / 2, p / 2, p - p / 2], value: 1.0);
                size = H + 2 * shift;
            }
            // 2. shift: a random H×W window of the (scaled) canvas
            var maxOff = size - H;
            var dy = (long)Math.Round(u[i * 5 + 1] * maxOff);
            var dx = (long)Math.Round(u[i * 5 + 2] * maxOff);
            x = x.narrow(2, dy, H).narrow(3, dx, W);
            // 3. blur: down to 2/3 size and back up
            if (u[i * 5 + 3] < blurProbability)
                x = Resize(Resize(x, H * 2 / 3, W * 2 / 3), H, W);
            outs.Add(x);
        }
        var batch = torch.cat(outs, 0);
        // 4. noise with a per-image standard deviation in [0, noise]
        var sigma = torch.tensor(u.Where((_, k) => k % 5 == 4).Select(v => v * noise).ToArray(), [B, 1, 1, 1]).to(images.dtype);
        batch = (batch + Rng.randn(batch.shape, g, batch.device, batch.dtype) * sigma).clamp(-1, 1);
        return batch.MoveToOuterDisposeScope();
    }

    static Tensor Resize(Tensor x, long height, long width) =>
        nn.functional.interpolate(x, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}
