// Tests of the committed concept sets: they parse, every concept they name exists in the pinned emoji index, the
// Emojinette splits are 5 erased / 5 preserved with every class erased in exactly two splits, the spectrum list has
// the paper's 20 words with the neutral prompts, and malformed set files are rejected naming the file. Also the
// search vocabulary R and its relation to the tokenizer vocabulary.
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class ConceptSetTests
{
    [Fact]
    public void All_committed_sets_load_with_rationales()
    {
        var sets = ConceptSets.LoadAll();
        Assert.Equal(["emojinette", "spectrum", "styles", "tuning", "weapons"], sets.Select(s => s.Name));
        Assert.All(sets, s =>
        {
            Assert.Equal(s.Name, Path.GetFileNameWithoutExtension(s.Source));
            Assert.False(string.IsNullOrWhiteSpace(s.Rationale));
            Assert.All(s.Entries, e => Assert.False(string.IsNullOrWhiteSpace(e.Rationale)));
            Assert.All(s.Splits, sp => Assert.False(string.IsNullOrWhiteSpace(sp.Rationale)));
        });
    }

    [Fact]
    public void The_tuning_set_shares_no_concept_with_the_evaluation_set()
    {
        var tuning = ConceptSets.Load("tuning").ConceptNames;
        var emojinette = ConceptSets.Load(ConceptSets.Emojinette).ConceptNames;
        Assert.Empty(tuning.Intersect(emojinette));
        Assert.Single(ConceptSets.Load("tuning").Splits);
    }

    [Fact]
    public void Every_named_concept_exists_in_the_emoji_index_with_default_art()
    {
        var index = RealEmojiData.Index;
        foreach (var set in ConceptSets.LoadAll())
        {
            Assert.Empty(ConceptSets.Missing(set, index));
            foreach (var c in set.Resolve(index))
            {
                Assert.True(EmojiSelection.Default.Admits(c), $"{set.Name}: '{c.Name}' is outside the default selection");
                Assert.All(EmojiStyle.Default, s => Assert.True(c.HasArt(s), $"{set.Name}: '{c.Name}' lacks {s.Name} art"));
            }
        }
    }

    [Fact]
    public void Emojinette_has_ten_classes_and_four_balanced_splits()
    {
        var set = ConceptSets.Load(ConceptSets.Emojinette);
        Assert.Equal(["fish", "dog", "videocassette", "carpentry saw", "church", "trumpet", "delivery truck", "fuel pump", "flag in hole", "parachute"], set.ConceptNames);
        Assert.Equal("garbage truck", set.Entries.Single(e => e.Concept == "delivery truck").StandsFor);
        Assert.Equal(4, set.Splits.Count);
        foreach (var split in set.Splits)
        {
            Assert.Equal(5, split.Erase.Count);
            Assert.Equal(5, split.Preserve.Count);
            Assert.Equal(set.ConceptNames.Order(), split.Erase.Concat(split.Preserve).Order());
        }
        foreach (var c in set.ConceptNames)
            Assert.Equal(2, set.Splits.Count(s => s.Erase.Contains(c)));
        Assert.Equal(["fish", "dog", "videocassette", "carpentry saw", "church"], set.Split("first-half").Erase);
        Assert.Throws<KeyNotFoundException>(() => set.Split("nope"));
    }

    [Fact]
    public void Spectrum_maps_the_papers_twenty_words_including_the_neutral_prompts()
    {
        var set = ConceptSets.Load(ConceptSets.Spectrum);
        Assert.Equal(["women", "men", "person", "hat", "apple", "bamboo", "notebooks", "australians", "president", "boat", "lexus", "money",
                      "banana", "naked", "garbage truck", "a photo", " ", "road", "car", "bus"], set.Entries.Select(e => e.StandsFor));
        Assert.Equal("an emoji", set.Entries.Single(e => e.StandsFor == "a photo").Prompt);
        Assert.Equal("", set.Entries.Single(e => e.StandsFor == " ").Prompt);
        Assert.Equal(18, set.ConceptNames.Count);
        var tokenizer = WordTokenizer.LoadDefault();
        Assert.Empty(tokenizer.EncodeBatch(set.Prompts).Unknown);
    }

    [Fact]
    public void Weapons_and_styles_sets_are_well_formed()
    {
        var weapons = ConceptSets.Load(ConceptSets.Weapons);
        Assert.Subset(weapons.ConceptNames.ToHashSet(), new HashSet<string> { "pistol", "hocho", "bomb", "dagger", "crossed swords", "axe", "bow and arrow" });
        var styles = ConceptSets.Load(ConceptSets.Styles);
        Assert.Equal("styles", styles.Kind);
        Assert.Equal(["twitter", "google"], styles.Entries.Select(e => e.Style));
        Assert.Equal(["twitter style", "google style"], styles.Prompts);
        Assert.All(styles.Splits, s => Assert.Single(s.Erase));
        Assert.All(styles.Entries, e => Assert.True(EmojiStyle.Parse(e.Style!).OpenlyLicensed));
    }

    [Fact]
    public void Malformed_set_files_are_rejected_naming_the_file()
    {
        const string entries = """[{"concept":"fish","rationale":"r"},{"concept":"dog","rationale":"r"}]""";
        string Set(string splits, string extra = "") => $$"""{"name":"t","kind":"concepts","rationale":"r","entries":{{entries}},"splits":{{splits}}{{extra}}}""";
        Assert.Equal(2, ConceptSets.Parse(Set("""[{"name":"s","erase":["fish"],"preserve":["dog"],"rationale":"r"}]"""), "t.json").Entries.Count);
        void Bad(string json, string fragment)
        {
            var e = Assert.Throws<InvalidDataException>(() => ConceptSets.Parse(json, "t.json"));
            Assert.StartsWith("t.json: ", e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Bad(Set("""[{"name":"s","erase":["cat"],"preserve":["dog"],"rationale":"r"}]"""), "\"cat\", which is not an entry");
        Bad(Set("""[{"name":"s","erase":["fish"],"preserve":["fish"],"rationale":"r"}]"""), "both erases and preserves");
        Bad(Set("""[{"name":"s","erase":["fish"],"preserve":["dog"]}]"""), "rationale");
        Bad(Set("[]").Replace("\"rationale\":\"r\",\"entries\"", "\"entries\""), "rationale");
        Bad("""{"name":"t","kind":"concepts","rationale":"r","entries":[{"concept":"Fish","rationale":"r"}]}""", "not a clean lower-case");
        Bad("""{"name":"t","kind":"colours","rationale":"r","entries":[]}""", "kind");
        Bad("""{"name":"t","kind":"concepts","rationale":"r","entries":[{"concept":"fish","rationale":"r"},{"concept":"fish","rationale":"r"}]}""", "more than one entry");
    }

    [Fact]
    public void Search_vocabulary_is_the_words_of_trained_concept_names()
    {
        var index = RealEmojiData.Index;
        var r = ConceptSets.SearchVocabulary(index);
        Assert.Equal(r.Distinct().Order(StringComparer.Ordinal), r);
        Assert.All(r, w => Assert.True(w.All(char.IsLetterOrDigit), $"'{w}' is not a word"));
        Assert.Contains("truck", r);
        Assert.DoesNotContain("andorra", r);                                           // flags are not trained by default
        Assert.Contains("andorra", ConceptSets.SearchVocabulary(index, new EmojiSelection(IncludeFlags: true)));
        var words = index.Select().SelectMany(c => WordTokenizer.Split(c.Name)).Where(w => w.All(char.IsLetterOrDigit)).ToHashSet();
        Assert.Equal(words.Count, r.Count);
        var vocab = ConceptSets.TokenizerVocabulary();
        Assert.Equal(WordTokenizer.Specials, vocab.Take(4));
        Assert.Subset(vocab.ToHashSet(), r.ToHashSet());
        Assert.True(vocab.Count > r.Count);
    }
}
