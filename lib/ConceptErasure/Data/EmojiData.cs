// The emoji world in one object: the verified package in the cache (EmojiDatasource), its concept index
// (EmojiIndex) and the decoded sprite sheets (EmojiSpriteSheet, decoded on first use and kept), from which
// EmojiImageSet batches of (N, 3, 32, 32) images are cut. `EmojiData.Load()` is the one call notebooks and
// commands need; it fetches with npm on first use and works offline from the cache afterwards.
using System.Collections.Concurrent;

namespace ConceptErasure.Data;

public sealed class EmojiData
{
    private readonly ConcurrentDictionary<EmojiStyle, Lazy<EmojiSpriteSheet>> _sheets = new();

    public EmojiDatasource Source { get; }
    public EmojiIndex Index { get; }

    public EmojiData(EmojiDatasource source, EmojiIndex index)
    {
        Source = source;
        Index = index;
    }

    /// <summary>Opens (fetching and verifying if needed) the pinned package and parses its index.</summary>
    public static EmojiData Load(EmojiSourceOptions? options = null, TextWriter? log = null)
    {
        var source = EmojiDatasource.Open(options, log);
        return new EmojiData(source, EmojiIndex.Load(source.IndexPath));
    }

    /// <summary>The decoded 32 px sheet of a style (decoded once, then shared; thread-safe).</summary>
    public EmojiSpriteSheet Sheet(EmojiStyle style)
        => _sheets.GetOrAdd(style, s => new Lazy<EmojiSpriteSheet>(() =>
            EmojiSpriteSheet.Load(Source.SheetPath(s), s, Index, Source.Lock.SpriteSize, Source.Lock.SpritePadding))).Value;

    /// <summary>Decodes the sheets of several styles in parallel.</summary>
    public void Preload(IEnumerable<EmojiStyle> styles)
        => Parallel.ForEach(styles.Distinct(), s => Sheet(s));

    /// <summary>
    /// Every (concept, style) pair of the selection whose style has its own art, concept-major (for each concept,
    /// its styles in the given order). Defaults: EmojiStyle.Default and EmojiSelection.Default.
    /// </summary>
    public EmojiImageSet Images(IEnumerable<EmojiStyle>? styles = null, EmojiSelection? selection = null)
        => Images(Index.Select(selection), styles ?? EmojiStyle.Default);

    /// <summary>The given concepts in the given styles; pairs without the style's own art are left out (see Samples).</summary>
    public EmojiImageSet Images(IEnumerable<EmojiConcept> concepts, IEnumerable<EmojiStyle> styles)
    {
        var styleList = styles.Distinct().ToList();
        if (styleList.Count == 0) throw new ArgumentException("At least one style is needed.", nameof(styles));
        Preload(styleList);
        var samples = new List<EmojiSample>();
        foreach (var c in concepts)
            foreach (var s in styleList)
                if (c.HasArt(s)) samples.Add(new EmojiSample(c, s));
        int size = Source.Lock.SpriteSize, length = EmojiImageSet.Channels * size * size;
        var pixels = new float[(long)samples.Count * length];
        Parallel.For(0, samples.Count, i => Sheet(samples[i].Style).WriteChw(samples[i].Concept, pixels.AsSpan(i * length, length)));
        return new EmojiImageSet(samples, pixels, size);
    }
}
