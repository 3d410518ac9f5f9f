// Deterministic caption templates for the emoji world, the analogue of the prompts a text-to-image model is trained
// and probed with: "delivery truck", "an emoji of a delivery truck", "delivery truck, twitter style",
// "an emoji of a delivery truck in google style", and the unconditional caption "" (classifier-free guidance's empty
// prompt). "an emoji" plays the part of the neutral prompt "a photo". The article is chosen by a fixed rule ("an"
// before a, e, i, o, u; otherwise "a"), so every caption is a pure function of (template, concept, style).
namespace ConceptErasure.Data;

/// <summary>A caption pattern with placeholders {concept}, {a} (the article for the concept) and {style}.</summary>
public sealed record CaptionTemplate(string Name, string Pattern)
{
    public bool UsesStyle => Pattern.Contains("{style}", StringComparison.Ordinal);
}

public static class Captions
{
    /// <summary>The empty caption used for unconditional generation and classifier-free guidance.</summary>
    public const string Unconditional = "";

    /// <summary>The neutral prompt, analogue of "a photo".</summary>
    public const string Neutral = "an emoji";

    /// <summary>The templates, in a fixed order (training picks them by index).</summary>
    public static IReadOnlyList<CaptionTemplate> Templates { get; } =
    [
        new("name", "{concept}"),
        new("emoji-of", "an emoji of {a} {concept}"),
        new("name-style", "{concept}, {style} style"),
        new("emoji-of-style", "an emoji of {a} {concept} in {style} style"),
    ];

    /// <summary>"an" if the concept starts with a vowel letter (a, e, i, o, u), else "a".</summary>
    public static string Article(string concept)
        => concept.Length > 0 && "aeiou".Contains(char.ToLowerInvariant(concept[0])) ? "an" : "a";

    /// <summary>Fills a template. A template that uses {style} needs a style.</summary>
    public static string Render(CaptionTemplate template, string concept, EmojiStyle? style = null)
    {
        if (string.IsNullOrWhiteSpace(concept)) throw new ArgumentException("The concept name is empty.", nameof(concept));
        if (template.UsesStyle && style is null)
            throw new ArgumentException($"Template '{template.Name}' ({template.Pattern}) needs a style.", nameof(style));
        return template.Pattern
            .Replace("{a}", Article(concept), StringComparison.Ordinal)
            .Replace("{concept}", concept, StringComparison.Ordinal)
            .Replace("{style}", style?.Name ?? "", StringComparison.Ordinal);
    }

    /// <summary>Every caption of a concept: all templates, or only the style-free ones when no style is given.</summary>
    public static IReadOnlyList<string> All(string concept, EmojiStyle? style = null)
        => Templates.Where(t => style is not null || !t.UsesStyle).Select(t => Render(t, concept, style)).ToList();

    /// <summary>The caption of a training sample for a variant number (template = variant mod template count).</summary>
    public static string ForSample(EmojiSample sample, int variant)
        => Render(Templates[(int)((uint)variant % (uint)Templates.Count)], sample.Concept.Name, sample.Style);

    /// <summary>The template index of a training caption from one uniform draw u ∈ [0, 1): a style-naming template
    /// with probability <paramref name="styleFraction"/>, a style-free one otherwise, uniformly within each kind.
    /// styleFraction = 0.5 is the uniform pick over all four templates, index ⌊4u⌋, exactly (earlier runs resume
    /// bit-identically).</summary>
    public static int TemplateIndex(double u, double styleFraction = 0.5)
    {
        if (!(u >= 0 && u < 1)) throw new ArgumentOutOfRangeException(nameof(u), u, "u must lie in [0, 1)");
        if (!(styleFraction >= 0 && styleFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(styleFraction), styleFraction, "the style fraction must lie in [0, 1]");
        var cut = 1 - styleFraction;
        return u < cut
            ? StyleFree[Math.Min(StyleFree.Length - 1, (int)(u / cut * StyleFree.Length))]
            : Styled[Math.Min(Styled.Length - 1, (int)((u - cut) / styleFraction * Styled.Length))];
    }

    // The template indices of each kind, in template order (TemplateIndex runs for every training caption).
    static readonly int[] StyleFree = Enumerable.Range(0, Templates.Count).Where(i => !Templates[i].UsesStyle).ToArray();
    static readonly int[] Styled = Enumerable.Range(0, Templates.Count).Where(i => Templates[i].UsesStyle).ToArray();

    /// <summary>The fixed words the templates add around concept and style names.</summary>
    public static IReadOnlyList<string> TemplateWords { get; } =
        Templates.SelectMany(t => WordTokenizer.Split(t.Pattern.Replace("{a}", "a an").Replace("{concept}", " ").Replace("{style}", " ")))
            .Concat(WordTokenizer.Split(Neutral))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}
