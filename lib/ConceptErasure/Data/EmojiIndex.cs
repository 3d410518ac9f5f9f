// The emoji world's vocabulary of concepts and styles, parsed from emoji-datasource's emoji.json. A concept is one
// emoji (or one skin-tone variant of it) with a clean lower-case name; a style is a vendor's artwork. The default
// selection — what anything trained and shipped uses — excludes the 270 flags and the 1,875 skin-tone variants
// (both opt-in through EmojiSelection) and uses the openly licensed styles twitter (Twemoji, CC-BY 4.0) and google
// (Noto Emoji, Apache 2.0); apple and facebook are proprietary and opt-in only (see data/emoji/README.md).
//
// Names: emoji.json's "name" is the Unicode name in upper case ("DELIVERY TRUCK"). The concept name is it in lower
// case with typographic quotes made ASCII ("rescue worker's helmet"). Where several emoji share one name (emoji 16:
// "MAN IN TUXEDO" for U+1F935 and for its ZWJ man sequence) each of them takes its first short name with _ and - as
// spaces instead ("person in tuxedo", "man in tuxedo"). Skin-tone variants are named like CLDR does:
// "waving hand: medium skin tone", "kiss: man, man, light skin tone, dark skin tone".
using System.Text;
using System.Text.Json;

namespace ConceptErasure.Data;

/// <summary>A vendor's emoji artwork, i.e. an art style of the emoji world.</summary>
public sealed record EmojiStyle(
    string Name,            // as in emoji.json's has_img_<name> and in captions: "twitter"
    string Artwork,         // the artwork's own name: "Twemoji"
    string License,         // licence of the artwork
    bool OpenlyLicensed,    // may models trained on it and derived images be shipped?
    int Bit)                // position in All, used for EmojiConcept.ArtMask
{
    public static readonly EmojiStyle Twitter = new("twitter", "Twemoji", "CC-BY 4.0", true, 0);
    public static readonly EmojiStyle Google = new("google", "Noto Emoji", "Apache-2.0", true, 1);
    public static readonly EmojiStyle Apple = new("apple", "Apple Color Emoji", "proprietary (Apple Inc.), not openly licensed", false, 2);
    public static readonly EmojiStyle Facebook = new("facebook", "Facebook emoji", "proprietary (Meta Platforms), not openly licensed", false, 3);

    /// <summary>Every style emoji-datasource ships.</summary>
    public static IReadOnlyList<EmojiStyle> All { get; } = [Twitter, Google, Apple, Facebook];

    /// <summary>The openly licensed styles, used by default for anything trained and shipped.</summary>
    public static IReadOnlyList<EmojiStyle> Default { get; } = [Twitter, Google];

    /// <summary>The style with this name (case-insensitive).</summary>
    public static EmojiStyle Parse(string name)
        => All.FirstOrDefault(s => string.Equals(s.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"Unknown emoji style '{name}'; the styles are {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));

    public override string ToString() => Name;
}

/// <summary>One emoji concept: a base emoji or one skin-tone variant of it.</summary>
public sealed record EmojiConcept(
    string Name,                          // clean lower-case name, unique in the index: "delivery truck"
    IReadOnlyList<string> ShortNames,     // emoji.json short_names of the base emoji: ["truck"]
    string Category,                      // "Travel & Places"
    string Subcategory,                   // "transport-ground"
    string? SkinTone,                     // null for a base emoji, else e.g. "medium skin tone"
    string Unified,                       // code points: "1F69A"; a variant's own sequence: "1F44B-1F3FD"
    string? BaseUnified,                  // for a skin-tone variant, its base emoji's code points
    int SheetX,                           // column in the sprite sheets
    int SheetY,                           // row in the sprite sheets
    int SortOrder,                        // emoji.json sort_order of the base emoji (CLDR order)
    int ArtMask)                          // bit EmojiStyle.Bit set ⇔ that vendor has its own art (not a fallback)
{
    public bool HasArt(EmojiStyle style) => (ArtMask & (1 << style.Bit)) != 0;
    public bool IsFlag => Category == "Flags";
    public bool IsSkinToneVariant => SkinTone is not null;
    public override string ToString() => Name;
}

/// <summary>Which concepts a dataset draws on.</summary>
public sealed record EmojiSelection(
    bool IncludeFlags = false,        // category "Flags" (270 country and regional flags): off — striped rectangles, names are place names
    bool IncludeSkinTones = false)    // the skin-tone variants (1,875): off — they would outnumber base people emoji 5 to 1
{
    public static EmojiSelection Default { get; } = new();
    public static EmojiSelection Everything { get; } = new(IncludeFlags: true, IncludeSkinTones: true);

    public bool Admits(EmojiConcept c) => (IncludeFlags || !c.IsFlag) && (IncludeSkinTones || !c.IsSkinToneVariant);
}

/// <summary>All emoji concepts of emoji.json, in CLDR order (each base emoji followed by its skin-tone variants).</summary>
public sealed class EmojiIndex
{
    private readonly Dictionary<string, EmojiConcept> _byName;
    private readonly Dictionary<string, EmojiConcept> _byUnified;

    /// <summary>Every concept: base emoji and skin-tone variants.</summary>
    public IReadOnlyList<EmojiConcept> All { get; }
    /// <summary>Number of base emoji (entries of emoji.json).</summary>
    public int BaseEmojiCount { get; }
    /// <summary>Sheet columns and rows the index addresses (max sheet_x + 1, max sheet_y + 1).</summary>
    public int SheetColumns { get; }
    public int SheetRows { get; }
    /// <summary>Where the index came from (for messages).</summary>
    public string Source { get; }

    internal EmojiIndex(IReadOnlyList<EmojiConcept> all, string source)
    {
        All = all;
        Source = source;
        BaseEmojiCount = all.Count(c => !c.IsSkinToneVariant);
        SheetColumns = all.Max(c => c.SheetX) + 1;
        SheetRows = all.Max(c => c.SheetY) + 1;
        _byName = new Dictionary<string, EmojiConcept>(StringComparer.Ordinal);
        _byUnified = new Dictionary<string, EmojiConcept>(StringComparer.OrdinalIgnoreCase);
        var cells = new HashSet<(int, int)>();
        foreach (var c in all)
        {
            if (!_byName.TryAdd(c.Name, c)) throw new InvalidDataException($"{source}: two concepts are named '{c.Name}'.");
            if (!_byUnified.TryAdd(c.Unified, c)) throw new InvalidDataException($"{source}: two concepts have code points {c.Unified}.");
            if (!cells.Add((c.SheetX, c.SheetY))) throw new InvalidDataException($"{source}: two concepts share sheet cell ({c.SheetX}, {c.SheetY}).");
        }
    }

    /// <summary>Concepts admitted by the selection (default: no flags, no skin tones), in index order.</summary>
    public IReadOnlyList<EmojiConcept> Select(EmojiSelection? selection = null)
    {
        selection ??= EmojiSelection.Default;
        return All.Where(selection.Admits).ToList();
    }

    /// <summary>Concepts admitted by the selection for which the style has its own art.</summary>
    public IReadOnlyList<EmojiConcept> ForStyle(EmojiStyle style, EmojiSelection? selection = null)
    {
        selection ??= EmojiSelection.Default;
        return All.Where(c => selection.Admits(c) && c.HasArt(style)).ToList();
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public EmojiConcept? Find(string name) => _byName.GetValueOrDefault(name);

    public EmojiConcept? FindByUnified(string unified) => _byUnified.GetValueOrDefault(unified);

    /// <summary>The concept with this exact name; the error suggests names sharing a word (in any case) and the
    /// closest spellings.</summary>
    public EmojiConcept this[string name]
    {
        get
        {
            if (_byName.TryGetValue(name, out var c)) return c;
            var words = name.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var bases = All.Where(x => !x.IsSkinToneVariant).ToList();
            var near = Suggestions.Closest(name, bases.Select(x => x.Name), 3)
                .Concat(bases.Where(x => words.Any(w => x.Name.Split(' ').Contains(w))).Select(x => x.Name))
                .Distinct().Take(6).Select(x => $"'{x}'").ToList();
            string hint = near.Count > 0 ? $" Similar: {string.Join(", ", near)}." : "";
            throw new KeyNotFoundException($"No emoji concept named '{Suggestions.Shown(name)}' in {Source} (names are lower-case Unicode names such as 'delivery truck', or the emoji itself).{hint}");
        }
    }

    /// <summary>The concept a user means: its exact name, the same name in another case ("Delivery Truck"), or the
    /// emoji character itself ("🚚"); otherwise the indexer's error with suggestions.</summary>
    public EmojiConcept Resolve(string text)
    {
        var t = text.Trim();
        if (_byName.TryGetValue(t, out var exact)) return exact;
        if (_byName.TryGetValue(t.ToLowerInvariant(), out var lower)) return lower;
        var codes = string.Join("-", EnumerateCodePoints(t).Where(cp => cp != 0xFE0F).Select(cp => cp.ToString("X4")));
        if (codes.Length > 0 && (FindByUnified(codes) ?? FindByUnified(codes + "-FE0F")) is { } byChar) return byChar;
        return this[t];
    }

    static IEnumerable<int> EnumerateCodePoints(string s)
    {
        for (var i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
        {
            var cp = char.ConvertToUtf32(s, i);
            if (cp < 0x80) yield break;   // plain text, not an emoji sequence
            yield return cp;
        }
    }

    // ---------------------------------------------------------------- parsing

    private static readonly Dictionary<string, string> ToneNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["1F3FB"] = "light skin tone",
        ["1F3FC"] = "medium-light skin tone",
        ["1F3FD"] = "medium skin tone",
        ["1F3FE"] = "medium-dark skin tone",
        ["1F3FF"] = "dark skin tone",
    };

    public static EmojiIndex Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    /// <summary>Parses emoji.json; malformed entries raise InvalidDataException naming the source and entry.</summary>
    public static EmojiIndex Parse(Stream json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: expected a JSON array of emoji.");
            var raw = new List<RawEmoji>();
            int i = 0;
            foreach (var e in doc.RootElement.EnumerateArray()) raw.Add(RawEmoji.From(e, source, i++));
            if (raw.Count == 0) throw new InvalidDataException($"{source}: the emoji list is empty.");
            return Build(raw, source);
        }
    }

    private sealed record RawVariant(string Key, string Unified, int SheetX, int SheetY, int ArtMask);

    private sealed record RawEmoji(string Name, string Unified, string[] ShortNames, string Category, string Subcategory,
        int SheetX, int SheetY, int SortOrder, int ArtMask, List<RawVariant> Variants)
    {
        public static RawEmoji From(JsonElement e, string source, int index)
        {
            string where = $"{source}: entry {index}";
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where} is not an object.");
            string Str(JsonElement o, string key, string at)
                => o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
                    ? s : throw new InvalidDataException($"{at}: missing or empty \"{key}\".");
            int Int(JsonElement o, string key, string at)
                => o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 0
                    ? n : throw new InvalidDataException($"{at}: missing or negative \"{key}\".");
            int Mask(JsonElement o)
            {
                int m = 0;
                foreach (var s in EmojiStyle.All)
                    if (o.TryGetProperty("has_img_" + s.Name, out var v) && v.ValueKind == JsonValueKind.True) m |= 1 << s.Bit;
                return m;
            }

            string unified = Str(e, "unified", where);
            where = $"{source}: emoji {unified}";
            var shortNames = e.TryGetProperty("short_names", out var sn) && sn.ValueKind == JsonValueKind.Array
                ? sn.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray()
                : [];
            if (shortNames.Length == 0) throw new InvalidDataException($"{where}: no short_names.");
            var variants = new List<RawVariant>();
            if (e.TryGetProperty("skin_variations", out var sv) && sv.ValueKind == JsonValueKind.Object)
                foreach (var p in sv.EnumerateObject())
                {
                    string at = $"{where} skin variation {p.Name}";
                    variants.Add(new RawVariant(p.Name, Str(p.Value, "unified", at), Int(p.Value, "sheet_x", at), Int(p.Value, "sheet_y", at), Mask(p.Value)));
                }
            return new RawEmoji(Str(e, "name", where), unified, shortNames, Str(e, "category", where), Str(e, "subcategory", where),
                Int(e, "sheet_x", where), Int(e, "sheet_y", where), Int(e, "sort_order", where), Mask(e), variants);
        }
    }

    private static EmojiIndex Build(List<RawEmoji> raw, string source)
    {
        raw.Sort((a, b) => a.SortOrder != b.SortOrder ? a.SortOrder.CompareTo(b.SortOrder) : string.CompareOrdinal(a.Unified, b.Unified));
        var names = raw.Select(r => CleanName(r.Name)).ToArray();
        var shared = names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        for (int i = 0; i < raw.Count; i++)
            if (shared.Contains(names[i])) names[i] = CleanName(raw[i].ShortNames[0].Replace('_', ' ').Replace('-', ' '));

        var all = new List<EmojiConcept>(raw.Count * 2);
        for (int i = 0; i < raw.Count; i++)
        {
            var r = raw[i];
            all.Add(new EmojiConcept(names[i], r.ShortNames, r.Category, r.Subcategory, null, r.Unified, null,
                r.SheetX, r.SheetY, r.SortOrder, r.ArtMask));
            foreach (var v in r.Variants.OrderBy(v => v.Key, StringComparer.Ordinal))
            {
                string tone = string.Join(", ", v.Key.Split('-').Select(k => ToneNames.TryGetValue(k, out var t)
                    ? t : throw new InvalidDataException($"{source}: emoji {r.Unified} has an unknown skin tone key '{v.Key}'.")));
                string name = names[i].Contains(':') ? $"{names[i]}, {tone}" : $"{names[i]}: {tone}";
                all.Add(new EmojiConcept(name, r.ShortNames, r.Category, r.Subcategory, tone, v.Unified, r.Unified,
                    v.SheetX, v.SheetY, r.SortOrder, v.ArtMask));
            }
        }
        return new EmojiIndex(all, source);
    }

    /// <summary>Lower case, ASCII quotes, single spaces: "RESCUE WORKER’S HELMET" → "rescue worker's helmet".</summary>
    public static string CleanName(string raw)
    {
        var sb = new StringBuilder(raw.Length);
        bool space = false;
        foreach (char ch in raw.Trim())
        {
            char c = ch switch { '\u2019' or '\u2018' or '\u02BC' => '\'', '\u201C' or '\u201D' => '"', _ => char.ToLowerInvariant(ch) };
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (space && sb.Length > 0) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
