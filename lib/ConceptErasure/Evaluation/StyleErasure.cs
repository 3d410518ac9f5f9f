// StyleErasure.cs — the paper's third task, artistic style (Bui et al., NeurIPS 2024, the artist table; the emoji
// analogue: erase one vendor's art style, data/concept-sets/styles.json). For every model the same prompts
// "an emoji of {a} {concept} in {style} style" are drawn from the same seeds, for the erased and for the kept style,
// and each image is scored three ways:
//   • style accuracy: the judge's style head names the asked style (the erased style's should fall, the kept stay);
//   • CLIP score of the image against its prompt (the paper's erase-CLIP ↓ and retain-CLIP ↑);
//   • perceptual distance to the original model's image of the same seed: 1 − cosine of the judge's features
//     (LPIPS's role; 0 for the original itself — the erased style's should rise, the kept style's stay near 0);
// plus the judge's concept top-1 (does the object survive when its style is erased?). Intervals: bootstrap over images.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record StyleEvalOptions
{
    public int images_per_prompt { get; init; } = 4;               // seeds per (style, concept)
    public ulong seed { get; init; } = 7000;                       // prompt j of style i: seed + 1000·(i·C + j) + k
    public SamplingOptions sampling { get; init; } = new() { steps = 25 };
    public string template { get; init; } = "an emoji of {a} {concept} in {style} style";
}

/// <summary>One image: which style and concept it asked for, and its scores.</summary>
public sealed record StyleImageScore(string Style, string Concept, int Image, bool InStyle, double Clip, bool ConceptTop1, double Distance);

/// <summary>The scored images of one model.</summary>
public sealed record StyleScores(string Model, IReadOnlyList<StyleImageScore> Images)
{
    IReadOnlyList<StyleImageScore> Of(string style) => Images.Where(i => i.Style == style).ToList() is { Count: > 0 } l ? l
        : throw new ArgumentException($"no image of style '{style}' in {Model}'s scores");
    /// <summary>Share of the style's images the judge puts in that style.</summary>
    public Summary StyleAccuracy(string style) => Statistics.Summarize(Of(style).Select(i => i.InStyle ? 1.0 : 0.0).ToList());
    public Summary Clip(string style) => Statistics.Summarize(Of(style).Select(i => i.Clip).ToList());
    /// <summary>1 − judge-feature cosine to the original model's image of the same seed.</summary>
    public Summary Distance(string style) => Statistics.Summarize(Of(style).Select(i => i.Distance).ToList());
    public Summary ConceptTop1(string style) => Statistics.Summarize(Of(style).Select(i => i.ConceptTop1 ? 1.0 : 0.0).ToList());
}

public static class StyleErasure
{
    /// <summary>The prompts, in seed order: (style, concept, prompt) for every style, then every concept.</summary>
    public static IReadOnlyList<(string style, string concept, string prompt)> Prompts(IReadOnlyList<string> styles, IReadOnlyList<string> concepts, StyleEvalOptions? options = null)
    {
        var o = options ?? new StyleEvalOptions();
        return styles.SelectMany(s => concepts.Select(c => (s, c, o.template.Replace("{a}", Captions.Article(c)).Replace("{concept}", c).Replace("{style}", s)))).ToList();
    }

    /// <summary>The images of every prompt, (n, 3, H, W) each, drawn by one UNet from the prompts' seeds.</summary>
    public static IReadOnlyList<Tensor> Generate(FoundationModel model, UNet2DConditionModel unet, IReadOnlyList<(string style, string concept, string prompt)> prompts, StyleEvalOptions? options = null)
    {
        var o = options ?? new StyleEvalOptions();
        if (o.images_per_prompt is < 1 or > ErasureEvaluation.Chunk)
            throw new ArgumentException($"images per prompt must lie in [1, {ErasureEvaluation.Chunk}], got {o.images_per_prompt}");
        var pipe = new StableDiffusionPipeline(model);
        return prompts.Select((p, j) => QualityGate.Generate(pipe, unet, p.prompt, o.images_per_prompt, o.sampling, o.seed + 1000UL * (ulong)j)).ToList();
    }

    /// <summary>Scores one model's images against the original model's images of the same prompts and seeds.</summary>
    public static StyleScores Score(string name, FoundationModel model, ConceptJudge judge, ClipModel clip,
        IReadOnlyList<(string style, string concept, string prompt)> prompts, IReadOnlyList<Tensor> images, IReadOnlyList<Tensor> original)
    {
        if (images.Count != prompts.Count || original.Count != prompts.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {images.Count} image batches and {original.Count} original batches");
        var rows = new List<StyleImageScore>();
        for (var j = 0; j < prompts.Count; j++)
        {
            using var scope = NewDisposeScope();
            var (style, concept, prompt) = prompts[j];
            var styleId = Array.IndexOf(judge.config.styles, style);
            if (styleId < 0) throw new ArgumentException($"the judge knows the styles {string.Join(", ", judge.config.styles)}, not '{style}'");
            var label = judge.config.concepts.Contains(concept) ? judge.ConceptId(concept) : -1;
            var verdict = judge.Judge(images[j]);
            var clipScores = QualityGate.ClipScores(clip, model.Prompts.Tokenizer, images[j], prompt);
            var cosine = ImageMeasures.FeatureCosine(judge, images[j], original[j]);
            for (var k = 0; k < verdict.Count; k++)
                rows.Add(new StyleImageScore(style, concept, k, verdict.Style[k] == styleId, clipScores[k], label >= 0 && verdict.Top1(k) == label, 1 - cosine[k]));
        }
        return new StyleScores(name, rows);
    }
}

/// <summary>The style task on disk (what `workbook style` writes per model, read back by the notebooks) and its table.</summary>
public static class StyleErasureFiles
{
    public const string ScoresFile = "style-scores.csv";
    const string Header = "style,concept,image,in_style,clip,concept_top1,distance";
    static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;

    public static void Save(string folder, StyleScores s)
    {
        Directory.CreateDirectory(folder);
        var sb = new System.Text.StringBuilder(Header + "\n");
        foreach (var i in s.Images)
            sb.Append(FormattableString.Invariant($"{Csv.Quote(i.Style)},{Csv.Quote(i.Concept)},{i.Image},{(i.InStyle ? 1 : 0)},{i.Clip:R},{(i.ConceptTop1 ? 1 : 0)},{i.Distance:R}\n"));
        AtomicFile.WriteAllText(Path.Combine(folder, ScoresFile), sb.ToString());
    }

    public static StyleScores Load(string folder, string? name = null)
    {
        var path = Path.Combine(folder, ScoresFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {ScoresFile} (a folder written by `workbook style` holds it)", path);
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header) throw new InvalidDataException($"{path}: not a style score file (header '{Header}')");
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(Csv.Split).Select(f => new StyleImageScore(f[0], f[1], int.Parse(f[2], Inv), f[3] == "1",
            double.Parse(f[4], Inv), f[5] == "1", double.Parse(f[6], Inv))).ToList();
        return new StyleScores(name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), rows);
    }

    /// <summary>The artist-table form: per model, style accuracy, CLIP score, distance to the original and object top-1
    /// for the erased and the kept style (mean [95 % bootstrap CI over images]).</summary>
    public static string Markdown(IReadOnlyList<StyleScores> models, string erased, string kept)
    {
        static string P(Summary s) => FormattableString.Invariant($"{100 * s.Mean:F1} [{100 * s.Low95:F1}, {100 * s.High95:F1}]");
        static string N(Summary s, string f) => string.Format(Inv, $"{{0:{f}}} [{{1:{f}}}, {{2:{f}}}]", s.Mean, s.Low95, s.High95);
        var n = models[0].Images.Count(i => i.Style == erased);
        var sb = new System.Text.StringBuilder($"Style task: \"{erased} style\" erased, {kept} kept; {n} images per style and model (mean [95 % CI over images]).\n\n");
        sb.AppendLine($"| model | {erased} accuracy % ↓ | {kept} accuracy % ↑ | erase-CLIP ↓ | retain-CLIP ↑ | distance, {erased} ↑ | distance, {kept} ↓ | object top-1 %, {erased} | object top-1 %, {kept} |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var m in models)
            sb.AppendLine($"| {m.Model} | {P(m.StyleAccuracy(erased))} | {P(m.StyleAccuracy(kept))} | {N(m.Clip(erased), "F1")} | {N(m.Clip(kept), "F1")} | " +
                          $"{N(m.Distance(erased), "F3")} | {N(m.Distance(kept), "F3")} | {P(m.ConceptTop1(erased))} | {P(m.ConceptTop1(kept))} |");
        return sb.ToString();
    }
}
