// CLIP-score δ (Evaluation/ClipDelta.cs) on a tiny model and a tiny CLIP: δ is the mean of the per-image differences
// 100·cos(E_img(x), E_txt(p)) computed by hand from the same seeds; an unchanged model has δ = 0 exactly; the judge's
// verdicts are attached only to concepts it knows; mismatched score sets are refused; the group difference and the
// CSV round trip on hand-made sets; the sensitivity file round trip and the percentile rank on known inputs.
using ConceptErasure.Evaluation;
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Tests.Audit;
using ConceptErasure.Tests.Erasure;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class ClipDeltaTests
{
    static readonly ClipDeltaOptions Options = new() { images = 3, seed = 40, sampling = new SamplingOptions { steps = 3 }, template = "{concept}" };

    internal static ClipModel TinyClip(FoundationModel model)
    {
        var clip = new ClipModel(new ClipConfig { text = model.Config.text_encoder, vision_channels = [8, 8, 8], image_size = 4 });
        using (var g = ConceptErasure.Engine.Rng.Create(21))
            foreach (var m in new TorchSharp.torch.nn.Module[] { clip.text, clip.vision, clip.text_projection, clip.visual_projection }) TinyModel.Initialise(m, g);
        clip.eval();
        return clip;
    }

    static ClipDeltaItem[] Items => [ClipDeltaItem.Concept("truck", "{concept}"), ClipDeltaItem.Concept("cat", "{concept}"), new ClipDeltaItem("\"\"", "")];

    [Fact]
    public void Delta_is_the_mean_of_hand_computed_paired_clip_differences()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(3);
        using var clip = TinyClip(model);
        using var erased = model.Unet.Clone();
        using (no_grad())
        using (var g = ConceptErasure.Engine.Rng.Create(5))
            foreach (var (_, p) in erased.named_parameters().Where(p => p.name.Contains(".attn2.to_v.")))
                p.add_(ConceptErasure.Engine.Rng.randn(p.shape, g) * 0.5);
        var before = ClipDelta.Scores(model, model.Unet, clip, Items, Options);
        var after = ClipDelta.Scores(model, erased, clip, Items, Options);
        var delta = ClipDelta.Delta(before, after);

        var pipe = new StableDiffusionPipeline(model);
        for (var i = 0; i < Items.Length; i++)
        {
            var seed = Options.seed + 1000UL * (ulong)i;
            double[] Hand(ConceptErasure.Models.UNet2DConditionModel unet)
            {
                using var s = NewDisposeScope();
                using var _ = no_grad();
                var images = ConceptErasure.Evaluation.QualityGate.Generate(pipe, unet, Items[i].Prompt, 3, Options.sampling, seed);
                var enc = model.Prompts.Tokenizer.Encode(Items[i].Prompt);
                var t = clip.EmbedText(torch.tensor(enc.Ids, [1, enc.Ids.Length]), torch.tensor(new long[] { enc.Length - 1 }));
                var e = clip.EmbedImage(images);
                return Enumerable.Range(0, 3).Select(k => 100.0 * (e[k] * t[0]).sum().ToDouble() / (e[k].norm().ToDouble() * t[0].norm().ToDouble())).ToArray();
            }
            var (o, x) = (Hand(model.Unet), Hand(erased));
            TinyModel.Close(o.Average(), delta[i].Original, 1e-4);
            TinyModel.Close(x.Average(), delta[i].Erased, 1e-4);
            Assert.Equal(o.Zip(x, (a, b) => a - b).Average(), delta[i].Delta.Mean, 1e-3);
            Assert.Equal(3, delta[i].Delta.N);
            Assert.True(delta[i].Delta.Low95 <= delta[i].Delta.Mean && delta[i].Delta.Mean <= delta[i].Delta.High95);
        }
        Assert.Contains(delta, d => Math.Abs(d.Delta.Mean) > 1e-3);   // the perturbation changed what the model draws
    }

    [Fact]
    public void An_unchanged_model_has_zero_delta_and_the_judge_scores_only_the_concepts_it_knows()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(3);
        using var clip = TinyClip(model);
        using var judge = ConcealmentAuditTests.TinyJudge();
        using var copy = model.Unet.Clone();
        var a = ClipDelta.Scores(model, model.Unet, clip, Items, Options, judge: judge);
        var b = ClipDelta.Scores(model, copy, clip, Items, Options, judge: judge);
        Assert.All(ClipDelta.Delta(a, b), d => { Assert.Equal(0.0, d.Delta.Mean); Assert.Equal(0.0, d.Delta.Low95); Assert.Equal(0.0, d.Delta.High95); });
        Assert.NotNull(a[0].Top1);                    // "truck" is a judge class
        Assert.Equal(3, a[0].Top5!.Length);
        Assert.Null(a[2].Top1);                       // the empty prompt is not
        Assert.All(a[0].Top1!.Zip(a[0].Top5!), p => Assert.True(!p.First || p.Second, "top-1 implies top-5"));
        Assert.Throws<ArgumentException>(() => ClipDelta.Delta(a, b.Take(2).ToList()));
        Assert.Throws<ArgumentException>(() => ClipDelta.Delta(a, b.Reverse().ToList()));
        Assert.Throws<ArgumentException>(() => ClipDelta.Scores(model, model.Unet, clip, Items, Options with { images = 0 }));
    }

    [Fact]
    public void Group_difference_and_csv_round_trip_on_hand_made_scores()
    {
        ClipScoreSet Set(string name, ulong seed, params double[] s) => new(new ClipDeltaItem(name, "an emoji of " + name), seed, s, s.Select(x => x > 4.5).ToArray(), s.Select(_ => true).ToArray());
        var original = new[] { Set("car", 1, 10, 10, 10), Set("bus", 2, 8, 8, 8), Set("cat", 3, 5, 5, 5), new ClipScoreSet(new ClipDeltaItem("\"\"", ""), 4, [1, 2, 3]) };
        var erased = new[] { Set("car", 1, 4, 6, 5), Set("bus", 2, 6, 6, 6), Set("cat", 3, 5, 4, 6), new ClipScoreSet(new ClipDeltaItem("\"\"", ""), 4, [1, 2, 3]) };
        // δ: car 5, bus 2, cat 0 → related (car, bus) 3.5 minus unrelated (cat) 0
        var g = ClipDelta.GroupDifference(original, erased, ["car", "bus"], ["cat"], resamples: 2000);
        Assert.Equal(3.5, g.Mean, 12);
        Assert.True(g.Low95 < 3.5 && 3.5 < g.High95 && g.High95 - g.Low95 < 3, $"{g}");
        Assert.Throws<ArgumentException>(() => ClipDelta.GroupDifference(original, erased, ["truck"], ["cat"]));
        Assert.Equal(3.5, ClipDelta.GroupMean(original, erased, ["car", "bus"]).Mean, 12);
        var cat = ClipDelta.GroupMean(original, erased, ["cat"], resamples: 2000);          // δ per image 0, 1, −1
        Assert.True(cat.Low95 < 0 && cat.High95 > 0 && cat.Mean == 0, $"{cat}");
        // pooling two runs: every item gets both runs' images; δ of the pool is the mean over all pairs
        var pooled = ClipDelta.Pool([erased, original]);
        Assert.Equal(6, pooled[0].Scores.Length);
        Assert.Equal((5 + 0) / 2.0, ClipDelta.Delta(ClipDelta.Pool([original, original]), pooled)[0].Delta.Mean, 12);
        Assert.Null(pooled[3].Top1);
        Assert.Throws<ArgumentException>(() => ClipDelta.Pool([erased, erased.Take(2).ToList()]));

        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, ClipDelta.ToCsv(erased));
            var back = ClipDelta.ReadCsv(path);
            Assert.Equal(erased.Length, back.Count);
            for (var i = 0; i < erased.Length; i++)
            {
                Assert.Equal(erased[i].Item, back[i].Item);
                Assert.Equal(erased[i].Seed, back[i].Seed);
                Assert.Equal(erased[i].Scores, back[i].Scores);
                Assert.Equal(erased[i].Top1, back[i].Top1);
            }
            Assert.Null(back[3].Top1);
            Assert.Equal(2.0 / 3, back[0].Top1Rate!.Value, 12);   // car 4, 6, 5 → two above 4.5
            File.WriteAllText(path, "word,seed,delta\n");
            Assert.Throws<InvalidDataException>(() => ClipDelta.ReadCsv(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Sensitivity_files_round_trip_and_percentile_ranks_count_ties_half()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, Sensitivity.CsvHeader + "\n" + Sensitivity.ToCsv(["", "an emoji", "car, red"], 11, [0.5, 1e-7, 2]) + Sensitivity.ToCsv(["", "an emoji", "car, red"], 12, [0.25, 3, 4]));
            var d = Sensitivity.ReadCsv(path);
            Assert.Equal([11UL, 12UL], d.Keys);
            Assert.Equal(1e-7, d[11]["an emoji"]);
            Assert.Equal(4, d[12]["car, red"]);
            Assert.Equal(0.5, d[11][""]);
        }
        finally { File.Delete(path); }
        Assert.Equal(0.0, Sensitivity.PercentileRank([1, 2, 3, 4], 0.5));
        Assert.Equal(0.625, Sensitivity.PercentileRank([1, 2, 3, 4], 3));      // 2 below + half of 1 tie, of 4
        Assert.Equal(1.0, Sensitivity.PercentileRank([1, 2, 3, 4], 9));
        Assert.Throws<ArgumentException>(() => Sensitivity.PercentileRank([], 1));
    }
}
