// `workbook data ...`: the emoji data. `fetch` fetches (npm pack), verifies against the pinned sha512, extracts,
// indexes and decodes the sheets, printing counts and timings; `vocab` regenerates data/emoji/vocab.txt; `grid`
// writes a concept-set × styles image grid (default: data/emoji/emojinette-grid.png).
using System.CommandLine;
using System.Diagnostics;
using ConceptErasure.Data;

namespace ConceptErasure.Cli.Commands;

internal static class DataCommand
{
    public static Command Create()
    {
        var cmd = new Command("data", "The emoji data: fetch and verify it, regenerate the vocabulary, draw image grids.");
        cmd.Subcommands.Add(Fetch());
        cmd.Subcommands.Add(Vocab());
        cmd.Subcommands.Add(Grid());
        return cmd;
    }

    private static Option<string?> CacheOption() => new("--cache") { Description = $"Cache folder (default: ${DataPaths.CacheVariable}, else $XDG_CACHE_HOME/concept-erasure, else ~/.cache/concept-erasure)." };

    private static Option<string> StylesOption() => new("--styles")
    {
        Description = "Comma-separated styles (twitter, google; apple and facebook are not openly licensed: opt-in).",
        DefaultValueFactory = _ => string.Join(',', EmojiStyle.Default.Select(s => s.Name)),
    };

    private static IReadOnlyList<EmojiStyle> ParseStyles(string text)
        => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(EmojiStyle.Parse).Distinct().ToList();

    private static int Guarded(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is EmojiDataUnavailableException or InvalidDataException or PngFormatException or FileNotFoundException
                                      or DirectoryNotFoundException or ArgumentException or KeyNotFoundException or UnknownWordsException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static Command Fetch()
    {
        var from = new Option<string?>("--from") { Description = "Use this emoji-datasource .tgz (e.g. downloaded by hand) instead of running npm; it must match the pinned integrity." };
        var cache = CacheOption();
        var styles = StylesOption();
        var cmd = new Command("fetch", "Fetch emoji-datasource with npm (if not cached), verify its sha512, extract, index and decode the sheets; print counts.");
        cmd.Options.Add(from);
        cmd.Options.Add(cache);
        cmd.Options.Add(styles);
        cmd.SetAction(parse => Guarded(() =>
        {
            var total = Stopwatch.StartNew();
            var options = new EmojiSourceOptions(CacheRoot: parse.GetValue(cache));
            var source = parse.GetValue(from) is { } tgz
                ? EmojiDatasource.Import(tgz, options, Console.Out)
                : EmojiDatasource.Open(options, Console.Out);
            double tSource = total.Elapsed.TotalSeconds;
            var index = EmojiIndex.Load(source.IndexPath);
            var data = new EmojiData(source, index);
            double tIndex = total.Elapsed.TotalSeconds - tSource;
            var styleList = ParseStyles(parse.GetValue(styles)!);
            var images = data.Images(styleList);
            double tImages = total.Elapsed.TotalSeconds - tSource - tIndex;

            Console.WriteLine($"{source.Lock.Spec}  {source.Lock.Integrity}");
            Console.WriteLine($"cache: {source.Directory}{(source.Prepared ? " (prepared now)" : " (already cached)")}");
            Console.WriteLine($"emoji: {index.BaseEmojiCount} base, {index.All.Count - index.BaseEmojiCount} skin-tone variants, " +
                              $"{index.All.Count(c => c.IsFlag && !c.IsSkinToneVariant)} flags; sheet grid {index.SheetColumns}×{index.SheetRows}");
            Console.WriteLine($"default concepts (no flags, no skin tones): {index.Select().Count}");
            Console.WriteLine("concepts with the style's own art:   default selection   +flags   +flags+skin tones");
            foreach (var s in EmojiStyle.All)
                Console.WriteLine($"  {s.Name,-9} {(s.OpenlyLicensed ? "open" : "opt-in"),-7} {index.ForStyle(s).Count,14} {index.ForStyle(s, new EmojiSelection(IncludeFlags: true)).Count,9} {index.ForStyle(s, EmojiSelection.Everything).Count,17}");
            Console.WriteLine($"images: [{string.Join(", ", images.Shape)}] for {string.Join(", ", styleList)}");
            Console.WriteLine($"time: source {tSource:F2} s, index {tIndex:F2} s, sheets+images {tImages:F2} s, total {total.Elapsed.TotalSeconds:F2} s");
            return 0;
        }));
        return cmd;
    }

    private static Command Vocab()
    {
        var output = new Option<string?>("--out") { Description = "Where to write the vocabulary (default: data/emoji/vocab.txt of the repository)." };
        var cmd = new Command("vocab", "Regenerate the tokenizer vocabulary from every emoji name, the caption template words and the style names.");
        cmd.Options.Add(output);
        cmd.SetAction(parse => Guarded(() =>
        {
            var data = EmojiData.Load(log: Console.Out);
            var vocabulary = EmojiVocabulary.Build(data.Index);
            string path = parse.GetValue(output) ?? EmojiVocabulary.DefaultPath();
            var tokenizer = new WordTokenizer(vocabulary);
            tokenizer.Save(path);
            var captions = data.Index.Select().SelectMany(c => EmojiStyle.Default.SelectMany(s => Captions.All(c.Name, s))).ToList();
            var batch = tokenizer.EncodeBatch(captions, strict: true);
            Console.WriteLine($"{path}: {tokenizer.VocabularySize} tokens ({WordTokenizer.Specials.Count} special)");
            Console.WriteLine($"captions of default concepts × default styles: {captions.Count}, truncated at context {tokenizer.ContextLength}: " +
                              $"{batch.Items.Count(i => i.Truncated)}, longest {batch.Items.Max(i => WordTokenizer.Split(i.Text).Count) + 2} tokens");
            return 0;
        }));
        return cmd;
    }

    private static Command Grid()
    {
        var set = new Option<string>("--set") { Description = "Concept set to draw (data/concept-sets/<name>.json).", DefaultValueFactory = _ => ConceptSets.Emojinette };
        var styles = StylesOption();
        var output = new Option<string?>("--out") { Description = "PNG to write (default: data/emoji/<set>-grid.png of the repository)." };
        var scale = new Option<int>("--scale") { Description = "Pixels per sprite pixel.", DefaultValueFactory = _ => 2 };
        var noCaptions = new Option<bool>("--no-captions") { Description = "Draw the images only." };
        var cmd = new Command("grid", "Write a PNG grid of a concept set (rows) × styles (columns).");
        foreach (var o in new Option[] { set, styles, output, scale, noCaptions }) cmd.Options.Add(o);
        cmd.SetAction(parse => Guarded(() =>
        {
            var conceptSet = ConceptSets.Load(parse.GetValue(set)!);
            var data = EmojiData.Load(log: Console.Out);
            var concepts = conceptSet.Resolve(data.Index);
            if (concepts.Count == 0) throw new ArgumentException($"{conceptSet.Source} names no emoji concepts to draw.");
            var styleList = ParseStyles(parse.GetValue(styles)!);
            var grid = RasterGrid.Emoji(data, concepts, styleList, new RasterGridOptions(Scale: parse.GetValue(scale)), captions: !parse.GetValue(noCaptions));
            string path = parse.GetValue(output) ?? Path.Combine(DataPaths.EmojiDataDir(), $"{conceptSet.Name}-grid.png");
            RasterGrid.Save(grid, path);
            Console.WriteLine($"{path}: {grid.Width}×{grid.Height}, {concepts.Count} concepts × {styleList.Count} styles");
            return 0;
        }));
        return cmd;
    }
}
