// Tests of sprite slicing on the real pinned sheets: the decoded pixels of each default style match a SHA-256
// computed by an independent decoder (Python's zlib + a separate unfilter), the 34 px cell geometry holds (every
// used cell has a fully transparent 1 px border and a non-empty sprite), the number of sprites per style equals the
// has_img count of emoji.json, and the float images are the sprites composited on white in [-1, 1].
using System.Security.Cryptography;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class EmojiSpriteTests
{
    // SHA-256 of the RGBA pixels of img/<style>/sheets/32.png in emoji-datasource 16.0.0, computed outside .NET.
    public static TheoryData<string, string> SheetHashes => new()
    {
        { "twitter", "225fa76e07faf0c474d663da6c1e5ef1253fa16632f77f0b78c3299c90c8c479" },
        { "google", "1a455df7074a593d789105e917e49350324eafd1b3c776fd615deffec8f55e92" },
    };

    [Theory]
    [MemberData(nameof(SheetHashes))]
    public void Sheet_decodes_to_the_reference_pixels(string styleName, string sha256)
    {
        var sheet = RealEmojiData.Value.Sheet(EmojiStyle.Parse(styleName));
        Assert.Equal((2108, 2108), (sheet.Image.Width, sheet.Image.Height));
        Assert.Equal((34, 62, 62), (sheet.Cell, sheet.Columns, sheet.Rows));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(sheet.Image.Pixels)));
    }

    [Theory]
    [InlineData("twitter")]
    [InlineData("google")]
    public void Every_sprite_of_a_default_style_sits_in_a_transparent_border_and_counts_match_emoji_json(string styleName)
    {
        var style = EmojiStyle.Parse(styleName);
        var sheet = RealEmojiData.Value.Sheet(style);
        int expected = 0;
        foreach (var e in RealEmojiData.RawEntries.EnumerateArray())
        {
            if (e.GetProperty("has_img_" + styleName).GetBoolean()) expected++;
            if (e.TryGetProperty("skin_variations", out var sv))
                expected += sv.EnumerateObject().Count(v => v.Value.GetProperty("has_img_" + styleName).GetBoolean());
        }

        var concepts = RealEmojiData.Index.ForStyle(style, EmojiSelection.Everything);
        Assert.Equal(expected, concepts.Count);
        int sliced = 0;
        foreach (var c in concepts)
        {
            var cell = sheet.CellImage(c.SheetX, c.SheetY);
            for (int i = 0; i < 34; i++)
            {
                Assert.Equal(0, cell.Pixel(i, 0)[3]);
                Assert.Equal(0, cell.Pixel(i, 33)[3]);
                Assert.Equal(0, cell.Pixel(0, i)[3]);
                Assert.Equal(0, cell.Pixel(33, i)[3]);
            }
            var sprite = sheet.Sprite(c);
            int inked = 0;
            for (int a = 3; a < sprite.Pixels.Length; a += 4) if (sprite.Pixels[a] > 0) inked++;
            Assert.True(inked > 8, $"{style.Name} sprite of '{c.Name}' is (nearly) empty");
            sliced++;
        }
        Assert.Equal(expected, sliced);
    }

    [Fact]
    public void Styles_without_their_own_art_are_refused()
    {
        var index = RealEmojiData.Index;
        var missing = index.Select().First(c => !c.HasArt(EmojiStyle.Facebook));
        var sheet = new EmojiSpriteSheet(new RgbaImage(2108, 2108), EmojiStyle.Facebook, index);
        var e = Assert.Throws<ArgumentException>(() => sheet.Sprite(missing));
        Assert.Contains("fallback", e.Message);
        Assert.Throws<ArgumentException>(() => sheet.WriteChw(missing, new float[3 * 32 * 32]));
    }

    [Fact]
    public void Sheet_geometry_is_checked_against_the_index()
    {
        var index = RealEmojiData.Index;
        Assert.Contains("34 px cells", Assert.Throws<InvalidDataException>(() => new EmojiSpriteSheet(new RgbaImage(2100, 2108), EmojiStyle.Twitter, index)).Message);
        Assert.Contains("addresses 62×62", Assert.Throws<InvalidDataException>(() => new EmojiSpriteSheet(new RgbaImage(34 * 61, 34 * 62), EmojiStyle.Twitter, index)).Message);
    }

    [Fact]
    public void Default_image_set_is_concepts_times_styles_on_white_in_minus_one_to_one()
    {
        var data = RealEmojiData.Value;
        var set = data.Images();
        Assert.Equal([1641L * 2, 3, 32, 32], set.Shape);
        Assert.Equal(set.Count * 3 * 32 * 32, set.Pixels.Length);
        Assert.All(set.Samples, s => Assert.True(s.Concept.HasArt(s.Style) && !s.Concept.IsFlag && !s.Concept.IsSkinToneVariant));
        Assert.Equal(EmojiStyle.Default, set.Samples.Take(2).Select(s => s.Style)); // concept-major order
        Assert.Equal(set.Samples[0].Concept, set.Samples[1].Concept);
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in set.Pixels) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        Assert.True(min >= -1f && max <= 1f, $"values span [{min}, {max}]");
        Assert.Equal(1f, max);   // white background
        Assert.True(min < -0.9f); // some near-black ink exists

        // image i is the RGBA sprite composited on white, channel-first
        int i = set.Samples.Select((s, k) => (s, k)).First(p => p.s.Concept.Name == "delivery truck" && p.s.Style == EmojiStyle.Google).k;
        var sprite = data.Sheet(EmojiStyle.Google).Sprite(set.Samples[i].Concept);
        var chw = set.Image(i);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                var p = sprite.Pixel(x, y);
                for (int c = 0; c < 3; c++)
                {
                    float onWhite = (p[c] * p[3] + 255f * (255 - p[3])) / 255f;
                    Assert.Equal(onWhite / 127.5f - 1f, chw[c * 1024 + y * 32 + x], 4);
                }
            }
        var back = set.ToRgba(i);
        var reference = sprite.OnBackground();
        for (int k = 0; k < back.Pixels.Length; k++)
            Assert.InRange(back.Pixels[k] - reference.Pixels[k], -1, 1);
    }

    [Fact]
    public void Explicit_concept_lists_skip_pairs_without_art()
    {
        var data = RealEmojiData.Value;
        var missing = data.Index.Select().First(c => !c.HasArt(EmojiStyle.Facebook));
        var set = data.Images([missing, data.Index["fish"]], [EmojiStyle.Twitter, EmojiStyle.Facebook]);
        Assert.Equal([(missing.Name, "twitter"), ("fish", "twitter"), ("fish", "facebook")],
                     set.Samples.Select(s => (s.Concept.Name, s.Style.Name)));
    }
}
