// Tests of captions and the word-level tokenizer: exact caption strings, splitting rules, ids with <bos>/<eos>/<pad>,
// reported and strict handling of unknown words, truncation, (B, T) batches with masks, vocabulary file checks, and
// that the committed data/emoji/vocab.txt is exactly what `workbook data vocab` generates from the pinned data.
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class CaptionTests
{
    [Fact]
    public void Templates_render_the_documented_captions()
    {
        Assert.Equal(
            ["delivery truck", "an emoji of a delivery truck", "delivery truck, twitter style", "an emoji of a delivery truck in twitter style"],
            Captions.All("delivery truck", EmojiStyle.Twitter));
        Assert.Equal(["axe", "an emoji of an axe"], Captions.All("axe"));
        Assert.Equal("", Captions.Unconditional);
        Assert.Equal("an emoji", Captions.Neutral);
        Assert.Throws<ArgumentException>(() => Captions.Render(Captions.Templates[3], "fish"));
    }

    [Fact]
    public void Sample_captions_cycle_through_templates_deterministically()
    {
        var concept = new EmojiConcept("fish", ["fish"], "Animals & Nature", "animal-marine", null, "1F41F", null, 0, 0, 1, 3);
        var sample = new EmojiSample(concept, EmojiStyle.Google);
        Assert.Equal("fish", Captions.ForSample(sample, 0));
        Assert.Equal("fish, google style", Captions.ForSample(sample, 2));
        Assert.Equal(Captions.ForSample(sample, 1), Captions.ForSample(sample, 5));
        Assert.Equal(Captions.ForSample(sample, 3), Captions.ForSample(sample, 3999));
        Assert.Equal(["\u002c", "a", "an", "emoji", "in", "of", "style"], Captions.TemplateWords);
    }

    [Fact]
    public void Template_choice_at_half_style_is_the_old_uniform_pick_and_follows_the_fraction()
    {
        // 0.5 must reproduce ⌊4u⌋ exactly for every float32 draw (earlier runs resume bit-identically).
        var rng = new Random(7);
        float[] edges = [0f, 0.25f, 0.5f, 0.75f, MathF.BitDecrement(0.25f), MathF.BitDecrement(0.5f), MathF.BitDecrement(0.75f), MathF.BitDecrement(1f)];
        foreach (var u in edges.Concat(Enumerable.Range(0, 20000).Select(_ => (float)rng.NextDouble())))
            Assert.Equal((int)((double)u * 4), Captions.TemplateIndex(u, 0.5));

        // Other fractions: on a fine uniform grid the share of style-naming templates is the fraction (to one grid
        // cell), and each kind's templates are used equally often.
        const int n = 10000;
        foreach (var f in new[] { 0.0, 0.25, 0.75, 0.9, 1.0 })
        {
            var counts = new int[Captions.Templates.Count];
            for (var i = 0; i < n; i++) counts[Captions.TemplateIndex((i + 0.5) / n, f)]++;
            var styled = Enumerable.Range(0, counts.Length).Where(i => Captions.Templates[i].UsesStyle).Sum(i => counts[i]);
            Assert.InRange(styled / (double)n, f - 1.0 / n, f + 1.0 / n);
            Assert.InRange(Math.Abs(counts[2] - counts[3]), 0, 1);
            Assert.InRange(Math.Abs(counts[0] - counts[1]), 0, 1);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Captions.TemplateIndex(1.0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Captions.TemplateIndex(0.3, 1.5));
    }
}

public class TokenizerTests
{
    private static readonly WordTokenizer Small = new([.. WordTokenizer.Specials, ",", "-", "a", "an", "delivery", "emoji", "of", "style", "truck", "twitter"], contextLength: 8);

    [Fact]
    public void Split_lower_cases_and_separates_words_and_punctuation()
    {
        Assert.Equal(["an", "emoji", "of", "a", "delivery", "-", "truck", ",", "twitter", "style", "!"], WordTokenizer.Split("An emoji of a  Delivery-Truck, twitter style!"));
        Assert.Equal(["rescue", "worker", "'", "s", "helmet"], WordTokenizer.Split("rescue worker’s helmet"));
        Assert.Equal(["côte", "d", "'", "ivoire", "flag"], WordTokenizer.Split("Côte d’Ivoire Flag"));
        Assert.Equal(["keycap", ":", "*"], WordTokenizer.Split("keycap: *"));
        Assert.Equal(["a", "🚚"], WordTokenizer.Split("a 🚚"));
        Assert.Empty(WordTokenizer.Split(" \t\n"));
    }

    [Fact]
    public void Encode_wraps_words_in_bos_eos_and_pads()
    {
        var t = Small.Encode("Delivery truck");
        Assert.Equal([1L, Small.IdOf("delivery"), Small.IdOf("truck"), 2, 0, 0, 0, 0], t.Ids);
        Assert.Equal(4, t.Length);
        Assert.Empty(t.Unknown);
        Assert.False(t.Truncated);
        Assert.Equal("delivery truck", Small.Decode(t.Ids));
        Assert.Equal(8, Small.IdOf("delivery")); // specials 0-3, then ",", "-", "a", "an"
    }

    [Fact]
    public void Empty_caption_is_bos_eos()
    {
        var t = Small.Encode(Captions.Unconditional);
        Assert.Equal([1L, 2, 0, 0, 0, 0, 0, 0], t.Ids);
        Assert.Equal(2, t.Length);
    }

    [Fact]
    public void Unknown_words_are_reported_or_rejected_never_dropped()
    {
        var t = Small.Encode("a zorblax truck zorblax Quux");
        Assert.Equal(["zorblax", "quux"], t.Unknown);
        Assert.Equal([1L, Small.IdOf("a"), WordTokenizer.UnkId, Small.IdOf("truck"), WordTokenizer.UnkId, WordTokenizer.UnkId, 2, 0], t.Ids);
        var e = Assert.Throws<UnknownWordsException>(() => Small.EncodeStrict("a zorblax truck"));
        Assert.Equal(["zorblax"], e.Words);
        Assert.Contains("\"zorblax\"", e.Message);
        var be = Assert.Throws<UnknownWordsException>(() => Small.EncodeBatch(["truck", "big truck", "a quux"], strict: true));
        Assert.Equal(["big", "quux"], be.Words);
    }

    [Fact]
    public void Long_captions_are_truncated_and_flagged()
    {
        var t = Small.Encode("an emoji of a delivery truck , twitter style");
        Assert.True(t.Truncated);
        Assert.Equal(8, t.Length);
        Assert.Equal(WordTokenizer.EosId, t.Ids[^1]);
        Assert.Equal("an emoji of a delivery truck", Small.Decode(t.Ids));
        Assert.False(Small.Encode("an emoji of a delivery truck").Truncated); // exactly fits: 6 words + 2
    }

    [Fact]
    public void Batches_are_B_by_T_with_mask_and_lengths()
    {
        var batch = Small.EncodeBatch(["truck", "", "a delivery truck", "a quux"]);
        Assert.Equal([4L, 8], batch.Shape);
        Assert.Equal(32, batch.Ids.Length);
        Assert.Equal([3L, 2, 5, 4], batch.Lengths);
        for (int b = 0; b < 4; b++)
        {
            Assert.Equal(batch.Items[b].Ids, batch.Ids.AsSpan(b * 8, 8).ToArray());
            Assert.Equal(batch.Lengths[b], batch.AttentionMask.AsSpan(b * 8, 8).ToArray().Sum());
            int len = (int)batch.Lengths[b];
            Assert.All(batch.AttentionMask.AsSpan(b * 8, len).ToArray(), m => Assert.Equal(1L, m));
            Assert.All(batch.AttentionMask.AsSpan(b * 8 + len, 8 - len).ToArray(), m => Assert.Equal(0L, m));
        }
        Assert.Equal(["quux"], batch.Unknown);
    }

    [Fact]
    public void Vocabulary_files_are_checked_and_round_trip()
    {
        Assert.Throws<InvalidDataException>(() => new WordTokenizer(["a", "b"]));
        Assert.Contains("repeats", Assert.Throws<InvalidDataException>(() => new WordTokenizer([.. WordTokenizer.Specials, "a", "a"])).Message);
        Assert.Contains("line 5", Assert.Throws<InvalidDataException>(() => new WordTokenizer([.. WordTokenizer.Specials, "two words"])).Message);
        Assert.Throws<InvalidDataException>(() => new WordTokenizer([.. WordTokenizer.Specials, "Upper"]));
        string dir = Directory.CreateTempSubdirectory("vocab-test-").FullName;
        try
        {
            string path = Path.Combine(dir, "vocab.txt");
            Small.Save(path);
            var loaded = WordTokenizer.Load(path, contextLength: 8);
            Assert.Equal(Small.Vocabulary, loaded.Vocabulary);
            File.WriteAllText(path, "<pad>\n<bos>\n\n<eos>\n<unk>\n");
            Assert.Contains("line 3 is empty", Assert.Throws<InvalidDataException>(() => WordTokenizer.Load(path)).Message);
        }
        finally { Directory.Delete(dir, true); }
        Assert.Equal([.. WordTokenizer.Specials, ",", "a", "b"], WordTokenizer.BuildVocabulary(["b, a", "A b"]));
    }

    [Fact]
    public void Committed_vocabulary_is_current_and_covers_every_caption()
    {
        var committed = WordTokenizer.LoadDefault();
        Assert.Equal(16, committed.ContextLength);
        Assert.Equal(EmojiVocabulary.Build(RealEmojiData.Index), committed.Vocabulary); // else: run `workbook data vocab`
        var captions = RealEmojiData.Index.All.SelectMany(c => EmojiStyle.All.SelectMany(s => Captions.All(c.Name, s))).Append(Captions.Unconditional).ToList();
        var batch = committed.EncodeBatch(captions, strict: true);
        Assert.Empty(batch.Unknown);
        Assert.Equal(1813, committed.VocabularySize);
    }
}
