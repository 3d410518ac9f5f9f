// The concept sets the experiments use, read from the committed files data/concept-sets/*.json: "emojinette"
// (Imagenette analogue, with four 5-erased / 5-preserved splits), "weapons" (harmful-content analogue of nudity),
// "styles" (erase one vendor style, keep the other) and "spectrum" (the paper's 20-word probe list mapped to emoji,
// with neutral prompts). Every file and every entry carries a one-line rationale. Also exposed here: the search
// vocabulary R (distinct words of the trained concepts' names, the analogue of the paper's 3,000-word list) and
// the tokenizer vocabulary (analogue of CLIP's 49,408 tokens).
using System.Text.Json;

namespace ConceptErasure.Data;

/// <summary>One member of a concept set.</summary>
public sealed record ConceptSetEntry(
    string? Concept,      // emoji concept name; null for style entries and neutral prompts
    string? Style,        // style name, for sets of kind "styles"
    string? StandsFor,    // what it is the analogue of (Imagenette class, the paper's word); null if itself
    string Prompt,        // text to prompt with: the concept name, "<style> style", or an explicit prompt
    string Rationale)
{
    /// <summary>The name splits refer to it by: the concept, else the style, else the prompt.</summary>
    public string Key => Concept ?? Style ?? Prompt;
}

/// <summary>A partition of a set's entries into concepts to erase and concepts to preserve.</summary>
public sealed record ConceptSplit(string Name, IReadOnlyList<string> Erase, IReadOnlyList<string> Preserve, string Rationale);

public sealed record ConceptSet(
    string Name,
    string Kind,                            // "concepts", "styles" or "prompts"
    string Rationale,
    IReadOnlyList<ConceptSetEntry> Entries,
    IReadOnlyList<ConceptSplit> Splits,
    string Source)                          // file it was read from
{
    /// <summary>The emoji concept names the set mentions (entries with a concept), in file order.</summary>
    public IReadOnlyList<string> ConceptNames => Entries.Where(e => e.Concept is not null).Select(e => e.Concept!).ToList();

    /// <summary>The prompts of the entries, in file order.</summary>
    public IReadOnlyList<string> Prompts => Entries.Select(e => e.Prompt).ToList();

    public ConceptSplit Split(string name)
        => Splits.FirstOrDefault(s => s.Name == name)
           ?? throw new KeyNotFoundException($"{Source}: no split named '{name}'; the splits are {string.Join(", ", Splits.Select(s => s.Name))}.");

    /// <summary>The set's concepts looked up in an index (throws naming the first missing one).</summary>
    public IReadOnlyList<EmojiConcept> Resolve(EmojiIndex index) => ConceptNames.Select(n => index[n]).ToList();
}

public static class ConceptSets
{
    public const string Emojinette = "emojinette", Weapons = "weapons", Styles = "styles", Spectrum = "spectrum";

    /// <summary>The set names present in the folder (default: data/concept-sets/).</summary>
    public static IReadOnlyList<string> Names(string? directory = null)
        => Directory.GetFiles(directory ?? DataPaths.ConceptSetDir(), "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToList();

    public static ConceptSet Load(string name, string? directory = null)
    {
        string path = Path.Combine(directory ?? DataPaths.ConceptSetDir(), name + ".json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no concept set named '{name}'.", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<ConceptSet> LoadAll(string? directory = null) => Names(directory).Select(n => Load(n, directory)).ToList();

    /// <summary>Parses and checks a set file: rationales present, keys unique, splits disjoint and drawn from the entries.</summary>
    public static ConceptSet Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: expected a JSON object.");
            string? Opt(JsonElement e, string key)
                => !e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null ? null
                   : v.ValueKind == JsonValueKind.String ? v.GetString() : throw new InvalidDataException($"{source}: \"{key}\" must be a string.");
            string Req(JsonElement e, string key, string where)
                => Opt(e, key) is { } s && s.Trim().Length > 0 ? s : throw new InvalidDataException($"{source}: {where} needs a non-empty \"{key}\".");
            JsonElement Arr(JsonElement e, string key, string where)
                => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v : throw new InvalidDataException($"{source}: {where} needs an array \"{key}\".");

            string name = Req(root, "name", "the file");
            string kind = Req(root, "kind", "the file");
            if (kind is not ("concepts" or "styles" or "prompts"))
                throw new InvalidDataException($"{source}: kind \"{kind}\" is not one of concepts, styles, prompts.");
            string rationale = Req(root, "rationale", "the file");

            var entries = new List<ConceptSetEntry>();
            int i = 0;
            foreach (var e in Arr(root, "entries", "the file").EnumerateArray())
            {
                string where = $"entry {++i}";
                string? concept = Opt(e, "concept"), style = Opt(e, "style"), prompt = Opt(e, "prompt");
                if (style is not null) style = EmojiStyle.Parse(style).Name;
                if (kind == "styles" && style is null) throw new InvalidDataException($"{source}: {where} of a styles set needs \"style\".");
                if (kind == "concepts" && concept is null) throw new InvalidDataException($"{source}: {where} of a concepts set needs \"concept\".");
                if (kind == "prompts" && concept is null && prompt is null) throw new InvalidDataException($"{source}: {where} needs \"concept\" or \"prompt\".");
                if (concept is not null && concept != EmojiIndex.CleanName(concept))
                    throw new InvalidDataException($"{source}: {where}: concept \"{concept}\" is not a clean lower-case concept name.");
                prompt ??= concept ?? $"{style} style";
                string standsFor = Opt(e, "standsFor") ?? Opt(e, "word") ?? "";
                entries.Add(new ConceptSetEntry(concept, style, standsFor.Length == 0 ? null : standsFor, prompt, Req(e, "rationale", where)));
            }
            if (entries.Count == 0) throw new InvalidDataException($"{source}: the set has no entries.");
            var dup = entries.GroupBy(e => e.Key).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null) throw new InvalidDataException($"{source}: \"{dup.Key}\" appears in more than one entry.");
            var keys = entries.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

            var splits = new List<ConceptSplit>();
            if (root.TryGetProperty("splits", out var splitsEl))
            {
                if (splitsEl.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: \"splits\" must be an array.");
                int k = 0;
                foreach (var s in splitsEl.EnumerateArray())
                {
                    string where = $"split {++k}";
                    string splitName = Req(s, "name", where);
                    where = $"split '{splitName}'";
                    List<string> Names(string key)
                        => Arr(s, key, where).EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()!
                            : throw new InvalidDataException($"{source}: {where}: \"{key}\" must list strings.")).ToList();
                    var erase = Names("erase");
                    var preserve = Names("preserve");
                    if (erase.Count == 0) throw new InvalidDataException($"{source}: {where} erases nothing.");
                    foreach (var n in erase.Concat(preserve))
                        if (!keys.Contains(n)) throw new InvalidDataException($"{source}: {where} names \"{n}\", which is not an entry of the set.");
                    var both = erase.Intersect(preserve).ToList();
                    if (both.Count > 0) throw new InvalidDataException($"{source}: {where} both erases and preserves {string.Join(", ", both)}.");
                    if (erase.Distinct().Count() != erase.Count || preserve.Distinct().Count() != preserve.Count)
                        throw new InvalidDataException($"{source}: {where} lists a name twice.");
                    if (splits.Any(x => x.Name == splitName)) throw new InvalidDataException($"{source}: two splits are named '{splitName}'.");
                    splits.Add(new ConceptSplit(splitName, erase, preserve, Req(s, "rationale", where)));
                }
            }
            return new ConceptSet(name, kind, rationale, entries, splits, source);
        }
    }

    /// <summary>Concept names of the set that the index lacks (empty when all exist).</summary>
    public static IReadOnlyList<string> Missing(ConceptSet set, EmojiIndex index) => set.ConceptNames.Where(n => !index.Contains(n)).ToList();

    /// <summary>
    /// The search vocabulary R: distinct words (runs of letters/digits, no punctuation) of the names of the concepts
    /// a model is trained on (default selection: no flags, no skin-tone variants), in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> SearchVocabulary(EmojiIndex index, EmojiSelection? selection = null)
        => index.Select(selection).SelectMany(c => WordTokenizer.Split(c.Name))
            .Where(w => w.Any(char.IsLetterOrDigit))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The tokenizer's vocabulary (data/emoji/vocab.txt), specials included, in id order.</summary>
    public static IReadOnlyList<string> TokenizerVocabulary() => WordTokenizer.LoadDefault().Vocabulary;
}
