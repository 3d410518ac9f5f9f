// ClipTraining.cs — contrastive training of the tiny CLIP on (augmented sprite, caption) pairs, then zero-shot
// retrieval: each real sprite, freshly augmented, is matched against "an emoji of a {concept}" for every concept;
// top-1/top-5 are reported. Its text tower becomes the foundation model's frozen text encoder.
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed record ClipTrainingConfig
{
    public LoopOptions loop { get; init; } = new() { steps = 3000, batch_size = 128 };
    public double lr { get; init; } = 1e-3;
    public long warmup { get; init; } = 200;
    public double weight_decay { get; init; } = 0.05;
    public ulong seed { get; init; } = 0;
}

public sealed record ClipReport(double ZeroShotTop1, double ZeroShotTop5, double StyleAccuracy, int Concepts, int Images, long Steps, double Seconds);

public static class ClipTraining
{
    /// <summary>The caption of sample i under variant v, and the style it names (null = style-free).</summary>
    static (string text, string? style) Caption(EmojiSample s, int variant)
    {
        var template = Captions.Templates[variant % Captions.Templates.Count];
        return (Captions.Render(template, s.Concept.Name, s.Style), template.UsesStyle ? s.Style.Name : null);
    }

    public static ClipReport Train(EmojiTrainingSet data, WordTokenizer tokenizer, ClipConfig modelConfig, ClipTrainingConfig c, string runDir,
        bool resume, TextWriter log, CancellationToken cancel = default)
    {
        torch.manual_seed((long)c.seed);
        using var clip = new ClipModel(modelConfig);
        using var opt = optim.AdamW(clip.parameters(), c.lr, weight_decay: c.weight_decay);
        using var g = Rng.Create(c.seed + 1);
        var parts = new Checkpoint.Parts();
        parts.Modules["clip"] = clip;
        parts.Optimizers["clip"] = opt;
        parts.Generators["batches"] = g;
        var prompts = new Pipelines.PromptEncoder(tokenizer, clip.text);
        log.WriteLine($"clip: {clip.ParameterCount():N0} parameters; {data.Count} sprites");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var steps = TrainingLoop.Run(runDir, c.loop, parts, opt, new LrSchedule.WarmupCosine(c.lr, c.warmup, c.loop.steps, c.lr * 0.02),
            s =>
            {
                var idx = data.SampleIndices(c.loop.batch_size, g);
                using var variantsT = Rng.randint(0, Captions.Templates.Count, [idx.Length], g);
                var variants = variantsT.data<long>();
                var captions = idx.Select((i, k) => Caption(data.Samples[(int)i], (int)variants[k])).ToArray();
                var pos = new float[idx.Length * idx.Length];
                for (var a = 0; a < idx.Length; a++)
                    for (var b = 0; b < idx.Length; b++)
                    {
                        var si = data.Samples[(int)idx[a]];
                        var sj = data.Samples[(int)idx[b]];
                        pos[a * idx.Length + b] = si.Concept.Name == sj.Concept.Name && (captions[b].style is null || captions[b].style == si.Style.Name) ? 1 : 0;
                    }
                var images = Augment.Apply(data.Batch(idx), g);
                var (ids, eos) = prompts.Tokenize(captions.Select(x => x.text).ToList());
                opt.zero_grad();
                var loss = clip.ContrastiveLoss(clip.EmbedImage(images), clip.EmbedText(ids, eos), torch.tensor(pos, [idx.Length, idx.Length]));
                loss.backward();
                nn.utils.clip_grad_norm_(clip.parameters(), 1.0);
                opt.step();
                return new Dictionary<string, double> { ["loss"] = loss.ToDouble() };
            }, resume, log, cancel);

        var report = Evaluate(clip, prompts, data, c.seed + 99) with { Steps = steps, Seconds = clock.Elapsed.TotalSeconds };
        Serialization.SaveModule(clip, Path.Combine(runDir, "clip.safetensors"));
        tokenizer.Save(Path.Combine(runDir, "vocab.txt"));   // the ids this text tower was trained with
        AtomicFile.WriteAllText(Path.Combine(runDir, "clip.json"), new JsonObject
        {
            ["config"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(clip.config, FoundationConfig.Json)),
            ["report"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(report)),
        }.ToJsonString(FoundationConfig.Json) + "\n");
        log.WriteLine($"clip: zero-shot top-1 {report.ZeroShotTop1:P1}, top-5 {report.ZeroShotTop5:P1}, style {report.StyleAccuracy:P1}");
        prompts.Dispose();
        return report;
    }

    /// <summary>Zero-shot retrieval on freshly augmented sprites against "an emoji of a {concept}" for all concepts,
    /// and style retrieval against "{concept}, {style} style" for the sprite's own concept.</summary>
    public static ClipReport Evaluate(ClipModel clip, Pipelines.PromptEncoder prompts, EmojiTrainingSet data, ulong seed)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var g = Rng.Create(seed);
        var concepts = data.Samples.Select(s => s.Concept.Name).Distinct().ToList();
        var conceptIndex = concepts.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
        var textEmb = new List<Tensor>();
        for (var i = 0; i < concepts.Count; i += 256)
        {
            var chunk = concepts.Skip(i).Take(256).Select(n => Captions.Render(Captions.Templates[1], n)).ToList();
            var (ids, eos) = prompts.Tokenize(chunk);
            textEmb.Add(clip.EmbedText(ids, eos));
        }
        var T = torch.cat(textEmb, 0);                                                  // (C, P)
        var styles = data.Samples.Select(s => s.Style).Distinct().ToList();
        int top1 = 0, top5 = 0, styleOk = 0;
        for (var i = 0; i < data.Count; i += 256)
        {
            using var inner = NewDisposeScope();
            var n = Math.Min(256, data.Count - i);
            var imgs = Augment.Apply(data.Images.narrow(0, i, n), g);
            var I = clip.EmbedImage(imgs);
            var (_, top) = Guarded.matmul(I, T.T).topk(5, 1);
            var ranks = top.data<long>();
            for (var k = 0; k < n; k++)
            {
                var s = data.Samples[i + k];
                var truth = conceptIndex[s.Concept.Name];
                if (ranks[k * 5] == truth) top1++;
                if (ranks.Skip(k * 5).Take(5).Contains(truth)) top5++;
                var styleCaps = styles.Select(st => Captions.Render(Captions.Templates[2], s.Concept.Name, st)).ToList();
                var (sids, seos) = prompts.Tokenize(styleCaps);
                var best = Guarded.matmul(I.narrow(0, k, 1), clip.EmbedText(sids, seos).T).argmax().item<long>();
                if (styles[(int)best] == s.Style) styleOk++;
            }
        }
        return new ClipReport((double)top1 / data.Count, (double)top5 / data.Count, (double)styleOk / data.Count, concepts.Count, data.Count, 0, 0);
    }
}
