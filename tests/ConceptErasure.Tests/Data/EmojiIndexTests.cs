// Tests of the concept index: naming rules and malformed input on small synthetic emoji.json files, and the real
// pinned index — counts, clean unique names, default exclusion of flags and skin tones, and has_img per style
// checked against emoji.json read independently.
using System.Text;
using System.Text.Json;
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class EmojiIndexTests
{
    private static EmojiIndex Parse(string json) => EmojiIndex.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), "test.json");

    private static string Entry(string name, string unified, string shortName, int x, int y, int order, string category = "Objects", string extra = "")
        => "{\"name\":\"" + name + "\",\"unified\":\"" + unified + "\",\"short_names\":[\"" + shortName + "\"],\"category\":\"" + category +
           "\",\"subcategory\":\"s\",\"sheet_x\":" + x + ",\"sheet_y\":" + y + ",\"sort_order\":" + order +
           ",\"has_img_twitter\":true,\"has_img_google\":false" + extra + "}";

    [Fact]
    public void Names_are_cleaned_shared_names_fall_back_to_short_names_and_skin_tones_are_named()
    {
        var index = Parse("[" + string.Join(",",
            Entry("MAN IN TUXEDO", "1F935-200D-2642-FE0F", "man_in_tuxedo", 0, 0, 2),
            Entry("MAN IN TUXEDO", "1F935", "person_in_tuxedo", 1, 0, 1),
            Entry("RESCUE WORKER’S HELMET", "26D1", "helmet", 2, 0, 3),
            Entry("WAVING HAND", "1F44B", "wave", 3, 0, 4, extra: """
                ,"skin_variations":{"1F3FD":{"unified":"1F44B-1F3FD","sheet_x":4,"sheet_y":0,"has_img_twitter":true,"has_img_google":true}}
                """),
            Entry("KISS: MAN, MAN", "1F468-200D-2764", "kiss_mm", 5, 0, 5, extra: """
                ,"skin_variations":{"1F3FB-1F3FF":{"unified":"X-1F3FB-1F3FF","sheet_x":6,"sheet_y":0,"has_img_twitter":false}}
                """),
            Entry("Andorra Flag", "1F1E6-1F1E9", "flag-ad", 0, 1, 6, category: "Flags")) + "]");

        Assert.Equal(["person in tuxedo", "man in tuxedo", "rescue worker's helmet", "waving hand", "waving hand: medium skin tone",
                      "kiss: man, man", "kiss: man, man, light skin tone, dark skin tone", "andorra flag"],
                     index.All.Select(c => c.Name));
        var tone = index["waving hand: medium skin tone"];
        Assert.Equal(("medium skin tone", "1F44B", "1F44B-1F3FD"), (tone.SkinTone, tone.BaseUnified, tone.Unified));
        Assert.True(tone.HasArt(EmojiStyle.Google));                       // variants carry their own has_img
        Assert.False(index["waving hand"].HasArt(EmojiStyle.Google));
        Assert.Equal(6, index.BaseEmojiCount);
        Assert.Equal(["person in tuxedo", "man in tuxedo", "rescue worker's helmet", "waving hand", "kiss: man, man"], index.Select().Select(c => c.Name));
        Assert.Equal(8, index.Select(EmojiSelection.Everything).Count);
        Assert.Equal(7, index.Select(new EmojiSelection(IncludeSkinTones: true)).Count);
        Assert.Equal(6, index.Select(new EmojiSelection(IncludeFlags: true)).Count);
        Assert.Empty(index.ForStyle(EmojiStyle.Google));
        Assert.Equal((7, 2), (index.SheetColumns, index.SheetRows));
    }

    [Fact]
    public void Malformed_index_entries_are_reported_with_source_and_emoji()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""[{"name":"X","unified":"1F600","short_names":["x"],"category":"c","subcategory":"s","sheet_y":0,"sort_order":1}]"""));
        Assert.Contains("test.json", e.Message);
        Assert.Contains("1F600", e.Message);
        Assert.Contains("sheet_x", e.Message);
        Assert.Throws<InvalidDataException>(() => Parse("{}"));
        Assert.Throws<InvalidDataException>(() => Parse("[]"));
        e = Assert.Throws<InvalidDataException>(() => Parse("[" + Entry("A", "1", "a", 0, 0, 1) + "," + Entry("B", "2", "b", 0, 0, 2) + "]"));
        Assert.Contains("share sheet cell", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Parse("[" + Entry("A", "1", "a", 0, 0, 1, extra: ""","skin_variations":{"ABCDE":{"unified":"9","sheet_x":1,"sheet_y":0}}""") + "]"));
        Assert.Contains("unknown skin tone", e.Message);
    }

    [Fact]
    public void Unknown_names_give_a_helpful_error()
    {
        var index = Parse("[" + Entry("DELIVERY TRUCK", "1F69A", "truck", 0, 0, 1) + "]");
        var e = Assert.Throws<KeyNotFoundException>(() => index["garbage truck"]);
        Assert.Contains("'garbage truck'", e.Message);
        Assert.Contains("'delivery truck'", e.Message);
        Assert.Null(index.Find("garbage truck"));
        Assert.Equal("delivery truck", index.FindByUnified("1f69a")!.Name);
    }

    [Fact]
    public void Styles_parse_and_only_twitter_and_google_are_default()
    {
        Assert.Equal(["twitter", "google"], EmojiStyle.Default.Select(s => s.Name));
        Assert.All(EmojiStyle.Default, s => Assert.True(s.OpenlyLicensed));
        Assert.False(EmojiStyle.Apple.OpenlyLicensed);
        Assert.False(EmojiStyle.Facebook.OpenlyLicensed);
        Assert.Same(EmojiStyle.Google, EmojiStyle.Parse(" Google "));
        Assert.Equal(Enumerable.Range(0, 4), EmojiStyle.All.Select(s => s.Bit));
        Assert.Contains("twitter", Assert.Throws<ArgumentException>(() => EmojiStyle.Parse("samsung")).Message);
    }

    // ---------------------------------------------------------------- the real pinned data

    [Fact]
    public void Real_index_counts_match_emoji_json()
    {
        var index = RealEmojiData.Index;
        var raw = RealEmojiData.RawEntries;
        int baseCount = raw.GetArrayLength();
        int variants = raw.EnumerateArray().Sum(e => e.TryGetProperty("skin_variations", out var sv) ? sv.EnumerateObject().Count() : 0);
        int flags = raw.EnumerateArray().Count(e => e.GetProperty("category").GetString() == "Flags");
        Assert.Equal(1911, baseCount); // emoji-datasource 16.0.0
        Assert.Equal(baseCount, index.BaseEmojiCount);
        Assert.Equal(baseCount + variants, index.All.Count);
        Assert.Equal(baseCount - flags, index.Select().Count);
        Assert.Equal(1641, index.Select().Count);
        Assert.DoesNotContain(index.Select(), c => c.IsFlag || c.IsSkinToneVariant);
        Assert.Equal(flags, index.Select(new EmojiSelection(IncludeFlags: true)).Count(c => c.IsFlag));
    }

    [Fact]
    public void Real_concepts_have_clean_unique_names_and_known_examples()
    {
        var index = RealEmojiData.Index;
        Assert.Equal(index.All.Count, index.All.Select(c => c.Name).Distinct().Count());
        Assert.All(index.All, c =>
        {
            Assert.Equal(EmojiIndex.CleanName(c.Name), c.Name);
            Assert.DoesNotContain(c.Name, ch => ch is >= 'A' and <= 'Z' || ch == '\u2019');
        });
        var truck = index["delivery truck"];
        Assert.Equal(("1F69A", "Travel & Places", "transport-ground"), (truck.Unified, truck.Category, truck.Subcategory));
        Assert.Contains("truck", truck.ShortNames);
        Assert.True(index.Contains("man in tuxedo") && index.Contains("person in tuxedo"));
        Assert.Equal("1F44B", index["waving hand sign: medium skin tone"].BaseUnified);
        Assert.True(index.Contains("rescue worker's helmet"));
    }

    [Fact]
    public void Real_art_flags_follow_has_img_per_style()
    {
        var index = RealEmojiData.Index;
        foreach (var style in EmojiStyle.All)
        {
            int expected = 0;
            foreach (var e in RealEmojiData.RawEntries.EnumerateArray())
            {
                if (e.GetProperty("has_img_" + style.Name).GetBoolean()) expected++;
                if (e.TryGetProperty("skin_variations", out var sv))
                    expected += sv.EnumerateObject().Count(v => v.Value.GetProperty("has_img_" + style.Name).GetBoolean());
            }
            Assert.Equal(expected, index.ForStyle(style, EmojiSelection.Everything).Count);
        }
        Assert.Equal(1641, index.ForStyle(EmojiStyle.Twitter).Count);
        Assert.Equal(1641, index.ForStyle(EmojiStyle.Google).Count);
        Assert.True(index.ForStyle(EmojiStyle.Facebook).Count < index.Select().Count); // facebook lacks art for some emoji
    }

    [Fact]
    public void AConceptMayBeGivenInAnotherCaseOrAsTheEmojiItself()
    {
        var index = RealEmojiData.Index;
        Assert.Equal("delivery truck", index.Resolve("Delivery Truck").Name);
        Assert.Equal("delivery truck", index.Resolve("🚚").Name);
        Assert.Equal("heavy black heart", index.Resolve("❤️").Name);      // U+2764 U+FE0F, the data's own name
        var ex = Assert.Throws<KeyNotFoundException>(() => index.Resolve("Delivery Trucks"));
        Assert.Contains("'delivery truck'", ex.Message);                 // suggested despite the case
        var huge = Assert.Throws<KeyNotFoundException>(() => index.Resolve(new string('x', 10_000)));
        Assert.True(huge.Message.Length < 400, $"{huge.Message.Length} characters");
    }
}
