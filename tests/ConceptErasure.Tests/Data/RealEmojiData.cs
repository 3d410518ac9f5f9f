// The real pinned emoji data, loaded once per test run and shared by the tests that need it. It comes from the
// cache ($CONCEPT_ERASURE_CACHE, else $XDG_CACHE_HOME/concept-erasure, else ~/.cache/concept-erasure) and is
// fetched with npm on first use; without npm, network and cache these tests fail with the loader's message saying
// what to run (`workbook data fetch`).
using System.Text.Json;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

internal static class RealEmojiData
{
    private static readonly Lazy<EmojiData> Loaded = new(() => EmojiData.Load(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<JsonDocument> Json = new(() => JsonDocument.Parse(File.ReadAllBytes(Value.Source.IndexPath)));

    public static EmojiData Value => Loaded.Value;
    public static EmojiIndex Index => Value.Index;

    /// <summary>A small training set: the first n concepts of the default selection in the default styles.</summary>
    public static ConceptErasure.Training.EmojiTrainingSet Sprites(int concepts)
    {
        var chosen = Index.Select(EmojiSelection.Default).Take(concepts).ToList();
        return ConceptErasure.Training.EmojiTrainingSet.FromImages(Value.Images(chosen, EmojiStyle.Default));
    }

    /// <summary>emoji.json itself, for checks that must not go through EmojiIndex.</summary>
    public static JsonElement RawEntries => Json.Value.RootElement;
}
