// The style task's scores (Evaluation/StyleErasure.cs) on a tiny model, judge and CLIP: the prompts and their seeds,
// style accuracy equal to the judge's style head read by hand, perceptual distance 0 for the original against
// itself and > 0 for a changed model, CLIP scores of the same images equal whichever model drew them, refusals.
using ConceptErasure.Engine;
using ConceptErasure.Evaluation;
using ConceptErasure.Pipelines;
using ConceptErasure.Tests.Audit;
using ConceptErasure.Tests.Erasure;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class StyleErasureTests
{
    // the tiny tokenizer knows neither "style" nor the style names: the template names the concept only (the judge's
    // style labels are still twitter and google)
    static readonly StyleEvalOptions Options = new() { images_per_prompt = 3, seed = 60, sampling = new SamplingOptions { steps = 3 }, template = "{a} {concept}" };

    [Fact]
    public void Scores_read_the_style_head_and_the_distance_to_the_original_images()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create(3);
        using var clip = ClipDeltaTests.TinyClip(model);
        using var judge = ConcealmentAuditTests.TinyJudge();
        var prompts = StyleErasure.Prompts(["twitter", "google"], ["cat", "truck"], Options);
        Assert.Equal(4, prompts.Count);
        Assert.Equal(("google", "cat", "a cat"), prompts[2]);
        Assert.Equal("an emoji of an apple in google style", StyleErasure.Prompts(["google"], ["apple"])[0].prompt);   // the default template

        var original = StyleErasure.Generate(model, model.Unet, prompts, Options);
        // prompt j is drawn from seed + 1000·j
        var pipe = new StableDiffusionPipeline(model);
        Assert.Equal(QualityGate.Generate(pipe, model.Unet, prompts[3].prompt, 3, Options.sampling, 60 + 3000).ToDoubles(), original[3].ToDoubles());

        var self = StyleErasure.Score("original", model, judge, clip, prompts, original, original);
        Assert.Equal(12, self.Images.Count);
        Assert.All(self.Images, i => Assert.InRange(i.Distance, -1e-5, 1e-5));        // cosine of identical features is 1 (float32)
        var byHand = prompts.Select((p, j) => judge.Judge(original[j]).Style.Count(s => s == Array.IndexOf(judge.config.styles, p.style))).ToArray();
        Assert.Equal((byHand[0] + byHand[1]) / 6.0, self.StyleAccuracy("twitter").Mean, 12);
        Assert.Equal((byHand[2] + byHand[3]) / 6.0, self.StyleAccuracy("google").Mean, 12);

        using var changed = model.Unet.Clone();
        using (no_grad())
        using (var g = ConceptErasure.Engine.Rng.Create(5))
            foreach (var (_, p) in changed.named_parameters().Where(p => p.name.Contains(".attn2.to_v."))) p.add_(ConceptErasure.Engine.Rng.randn(p.shape, g) * 0.5);
        var erased = StyleErasure.Generate(model, changed, prompts, Options);
        var scores = StyleErasure.Score("changed", model, judge, clip, prompts, erased, original);
        Assert.True(scores.Distance("twitter").Mean > 1e-4, $"distance {scores.Distance("twitter").Mean}");
        // CLIP scores depend on the images only: the changed model's images scored as "original" give the same numbers
        var again = StyleErasure.Score("again", model, judge, clip, prompts, erased, erased);
        Assert.Equal(scores.Images.Select(i => i.Clip), again.Images.Select(i => i.Clip));

        Assert.Throws<ArgumentException>(() => StyleErasure.Score("x", model, judge, clip, prompts, erased.Take(3).ToList(), original));
        Assert.Throws<ArgumentException>(() => StyleErasure.Score("x", model, judge, clip, StyleErasure.Prompts(["apple"], ["cat"], Options), [original[0]], [original[0]]));
        Assert.Throws<ArgumentException>(() => self.Clip("apple"));
        Assert.Throws<ArgumentException>(() => StyleErasure.Generate(model, model.Unet, prompts, Options with { images_per_prompt = 0 }));

        // the files hold the same scores; the table has a row per model
        var dir = Directory.CreateTempSubdirectory("ce-style").FullName;
        try
        {
            StyleErasureFiles.Save(dir, scores);
            var back = StyleErasureFiles.Load(dir, "changed");
            Assert.Equal(scores.Images, back.Images);
            var table = StyleErasureFiles.Markdown([self, back], "twitter", "google");
            Assert.Contains("| original | ", table);
            Assert.Contains("| changed | ", table);
            Assert.Contains($"{100 * back.StyleAccuracy("twitter").Mean:F1} [", table);
            File.WriteAllText(Path.Combine(dir, StyleErasureFiles.ScoresFile), "x\n");
            Assert.Throws<InvalidDataException>(() => StyleErasureFiles.Load(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}
