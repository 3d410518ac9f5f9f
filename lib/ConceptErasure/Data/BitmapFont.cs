// A tiny 5×7 bitmap font, designed for this workbook, for labelling image grids without any font dependency.
// It covers a–z (upper case is drawn in lower case), 0–9 and common punctuation; letters with diacritics are drawn
// as their base letter, and any other character as a hollow box, so missing glyphs are visible, not silent.
// Each glyph is 5 cells wide ('#' ink, '.' paper) and 7 rows tall above the baseline; g, j, p, q, y and , ;
// have two more rows below it (a 5×9 cell in all). Text advances 6 px per character and 11 px per line.
namespace ConceptErasure.Data;

public static class BitmapFont
{
    public const int GlyphWidth = 5, Advance = 6, LineHeight = 11;
    /// <summary>Rows of the glyph cell: 7 above the baseline plus 2 for descenders.</summary>
    public const int GlyphHeight = 9;

    private static readonly Dictionary<char, string[]> Glyphs = WithDescenderRows(new()
    {
        ['a'] = [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
        ['b'] = ["#....", "#....", "####.", "#...#", "#...#", "#...#", "####."],
        ['c'] = [".....", ".....", ".###.", "#....", "#....", "#...#", ".###."],
        ['d'] = ["....#", "....#", ".####", "#...#", "#...#", "#...#", ".####"],
        ['e'] = [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
        ['f'] = ["..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."],
        ['g'] = [".....", ".....", ".####", "#...#", "#...#", "#...#", ".####", "....#", ".###."],
        ['h'] = ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
        ['i'] = ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
        ['j'] = ["...#.", ".....", "..##.", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
        ['k'] = ["#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."],
        ['l'] = [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['m'] = [".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"],
        ['n'] = [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
        ['o'] = [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
        ['p'] = [".....", ".....", "####.", "#...#", "#...#", "#...#", "####.", "#....", "#...."],
        ['q'] = [".....", ".....", ".####", "#...#", "#...#", "#...#", ".####", "....#", "....#"],
        ['r'] = [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
        ['s'] = [".....", ".....", ".####", "#....", ".###.", "....#", "####."],
        ['t'] = [".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."],
        ['u'] = [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
        ['v'] = [".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
        ['w'] = [".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."],
        ['x'] = [".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
        ['y'] = [".....", ".....", "#...#", "#...#", "#...#", "#...#", ".####", "....#", ".###."],
        ['z'] = [".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"],
        ['0'] = [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['2'] = [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        ['3'] = ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
        ['4'] = ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        ['5'] = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        ['6'] = ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
        ['7'] = ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        ['8'] = [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        ['9'] = [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
        [' '] = [".....", ".....", ".....", ".....", ".....", ".....", "....."],
        ['.'] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        [','] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##..", "..#..", ".#..."],
        [':'] = [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
        [';'] = [".....", ".....", ".##..", ".##..", ".....", ".##..", ".##..", "..#..", ".#..."],
        ['\''] = ["..#..", "..#..", ".#...", ".....", ".....", ".....", "....."],
        ['"'] = [".#.#.", ".#.#.", ".....", ".....", ".....", ".....", "....."],
        ['-'] = [".....", ".....", ".....", "#####", ".....", ".....", "....."],
        ['_'] = [".....", ".....", ".....", ".....", ".....", ".....", "#####"],
        ['('] = ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
        [')'] = [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
        ['&'] = [".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"],
        ['!'] = ["..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."],
        ['?'] = [".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."],
        ['*'] = [".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."],
        ['#'] = [".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."],
        ['/'] = ["....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."],
        ['+'] = [".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."],
        ['='] = [".....", ".....", "#####", ".....", "#####", ".....", "....."],
        ['%'] = ["##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"],
        ['<'] = ["...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."],
        ['>'] = [".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."],
    });

    private static readonly string[] Box = ["#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####", ".....", "....."];

    /// <summary>Gives every 7-row glyph two empty descender rows and checks every glyph is 5×9.</summary>
    private static Dictionary<char, string[]> WithDescenderRows(Dictionary<char, string[]> glyphs)
    {
        foreach (var (c, rows) in glyphs.ToList())
        {
            var full = rows.Length == 7 ? [.. rows, ".....", "....."] : rows;
            if (full.Length != GlyphHeight || full.Any(r => r.Length != GlyphWidth || r.Any(ch => ch is not ('#' or '.'))))
                throw new InvalidOperationException($"Glyph '{c}' is not 5×7 or 5×9 of '#' and '.'.");
            glyphs[c] = full;
        }
        return glyphs;
    }

    /// <summary>The characters with a glyph of their own (lower case, digits, punctuation, space).</summary>
    public static IReadOnlyCollection<char> Characters => Glyphs.Keys;

    /// <summary>True when the character is drawn as itself (after lower-casing and removing diacritics) rather than as a box.</summary>
    public static bool HasGlyph(char c) => Glyphs.ContainsKey(Fold(c));

    /// <summary>The 9 rows of 5 cells drawn for a character (rows 8 and 9 are the descender).</summary>
    public static IReadOnlyList<string> Glyph(char c)
        => Glyphs.TryGetValue(Fold(c), out var g) ? g : Box;

    // Accented Latin letters (Latin-1 and Latin Extended-A) drawn as their base letter; kept as a table because
    // Unicode decomposition is unavailable under the workbook's invariant globalization mode.
    private static readonly Dictionary<char, char> BaseLetters = BuildBaseLetters(new()
    {
        ['a'] = "àáâãäåāăą", ['c'] = "çćĉċč", ['d'] = "ďđ", ['e'] = "èéêëēĕėęě", ['g'] = "ĝğġģ", ['h'] = "ĥħ",
        ['i'] = "ìíîïĩīĭįı", ['j'] = "ĵ", ['k'] = "ķ", ['l'] = "ĺļľŀł", ['n'] = "ñńņňŉ", ['o'] = "òóôõöøōŏő",
        ['r'] = "ŕŗř", ['s'] = "śŝşšș", ['t'] = "ţťŧț", ['u'] = "ùúûüũūŭůűų", ['w'] = "ŵ", ['y'] = "ýÿŷ", ['z'] = "źżž",
    });

    private static Dictionary<char, char> BuildBaseLetters(Dictionary<char, string> groups)
    {
        var map = new Dictionary<char, char>();
        foreach (var (letter, variants) in groups)
            foreach (char v in variants) map[v] = letter;
        return map;
    }

    private static char Fold(char c)
    {
        c = c is '\u2019' or '\u2018' ? '\'' : char.ToLowerInvariant(c);
        return BaseLetters.TryGetValue(c, out char b) ? b : c;
    }

    /// <summary>Width in pixels of one line of text at a scale (no trailing gap).</summary>
    public static int MeasureWidth(string text, int scale = 1)
        => text.Length == 0 ? 0 : (text.Length * Advance - (Advance - GlyphWidth)) * scale;

    /// <summary>Draws one line of text with its top-left corner at (x, y); pixels outside the image are clipped.</summary>
    public static void Draw(RgbaImage target, string text, int x, int y, byte r = 0, byte g = 0, byte b = 0, int scale = 1)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), $"Text scale {scale} must be at least 1.");
        for (int i = 0; i < text.Length; i++)
        {
            var glyph = Glyph(text[i]);
            int gx = x + i * Advance * scale;
            for (int row = 0; row < GlyphHeight; row++)
                for (int col = 0; col < GlyphWidth; col++)
                    if (glyph[row][col] == '#')
                        target.Fill(gx + col * scale, y + row * scale, scale, scale, r, g, b);
        }
    }

    /// <summary>Cuts text to at most maxWidth pixels at a scale, ending in ".." when shortened.</summary>
    public static string Fit(string text, int maxWidth, int scale = 1)
    {
        if (MeasureWidth(text, scale) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 0; n--)
        {
            string candidate = text[..n].TrimEnd() + "..";
            if (MeasureWidth(candidate, scale) <= maxWidth) return candidate;
        }
        return "";
    }
}
