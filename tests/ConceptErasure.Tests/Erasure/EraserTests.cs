using ConceptErasure.Data;
// The run loop: a non-finite loss stops the run with θ′ at its last good parameters, cancellation stops cleanly,
// and the result (delta, manifest, history) saves, loads and applies.
using ConceptErasure.Erasure;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Xunit.Abstractions;
using static ConceptErasure.Tests.Erasure.TinyModel;

namespace ConceptErasure.Tests.Erasure;

[Collection("global torch state")]
public class EraserTests(ITestOutputHelper output)
{
    [Fact]
    public void NonFiniteLossStopsWithTheLastGoodParameters()
    {
        using var model = Create();
        Dictionary<string, byte[]>? afterTwo = null;
        var c = Config("esd", "cat") with { iterations = 6 };
        using var result = Eraser.Run(model, c, onIteration: (rows, method) =>
        {
            if (rows[0].Step != 2) return;
            afterTwo = method.TrainedParameters.ToDictionary(p => p.name, p => Serialization.Bytes(p.parameter));
            using var _ = no_grad();
            method.Frozen.conv_out.bias!.fill_(double.NaN);          // θ now answers NaN: the next target is NaN
        });
        Assert.Equal(ErasureStatus.NonFiniteLoss, result.Status);
        Assert.Equal(2, result.IterationsDone);
        Assert.Contains("update 3", result.Message);
        Assert.Contains("parameters of update 2", result.Message);
        Assert.False(result.History[^1].Applied);
        Assert.True(double.IsNaN(result.History[^1].Loss));
        Assert.Equal(afterTwo!, result.Trained.ToDictionary(kv => kv.Key, kv => Serialization.Bytes(kv.Value)));
        Assert.Throws<InvalidOperationException>(() => result.ThrowIfIncomplete());
    }

    [Fact]
    public void CancellationStopsAfterTheCurrentIteration()
    {
        using var model = Create();
        using var cancel = new CancellationTokenSource();
        var c = Config("adversarial_preservation", "cat") with { iterations = 10, ddim_steps = 5 };
        using var result = Eraser.Run(model, c, cancel: cancel.Token, onIteration: (rows, _) => { if (rows.Any(r => r.Phase == ErasureMethod.ThetaPhase && r.Step == 2)) cancel.Cancel(); });
        Assert.Equal(ErasureStatus.Cancelled, result.Status);
        Assert.Equal(2, result.IterationsDone);
        Assert.Equal(4, result.History.Count);
        Assert.Contains("cancelled after 2 of 10", result.Message);
    }

    [Fact]
    public void ResultSavesLoadsAndApplies()
    {
        using var model = Create();
        var folder = Path.Combine(Path.GetTempPath(), "erasure-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var log = new StringWriter();
            var c = Config("adversarial_preservation", "cat") with { iterations = 3, ddim_steps = 5 };
            using var result = Eraser.Run(model, c, log);
            result.ThrowIfIncomplete().Save(folder);
            output.WriteLine(log.ToString());

            // the delta holds exactly the trained group
            Assert.Equal(ParameterGroups.Select(model.Unet, "xattn").Select(p => p.name).Order(), result.Trained.Keys.Order());
            var m = result.Manifest;
            foreach (var key in new[] { "method", "seed", "status", "config", "timing", "memory", "versions", "method_facts" })
                Assert.True(m.ContainsKey(key), $"manifest lacks {key}");
            Assert.True((double)m["timing"]!["iterations_per_second"]! > 0);
            Assert.True((long)m["memory"]!["peak_rss_bytes"]! > 0);
            Assert.False(string.IsNullOrEmpty((string?)m["versions"]!["libtorch"]));
            Assert.Equal(12, (int)m["config"]!["top_k"]!);
            Assert.Contains("candidates for 'cat'", log.ToString());
            Assert.Contains("step 3/3", log.ToString());

            using var loaded = ErasureResult.Load(folder);
            Assert.Equal(result.History, loaded.History);
            Assert.Equal(c, loaded.Config with { erase = c.erase, preserve = c.preserve, vocabulary = c.vocabulary });
            Assert.Equal(c.erase, loaded.Config.erase);
            Assert.Equal(result.Trained.Keys.Order(), loaded.Trained.Keys.Order());
            foreach (var (k, t) in result.Trained) Assert.Equal(Serialization.Bytes(t), Serialization.Bytes(loaded.Trained[k]));

            // applying the delta changes the group and nothing else
            using var erased = loaded.ErasedUnet(model);
            var original = Snapshot(model.Unet);
            foreach (var (name, p) in erased.named_parameters())
                Assert.Equal(result.Trained.TryGetValue(name, out var t) ? Serialization.Bytes(t) : original[name], Serialization.Bytes(p));
            Assert.StartsWith("step,phase,concept,t_enc,t,l1,l2,loss,applied,candidate", File.ReadAllText(Path.Combine(folder, ErasureResult.HistoryFile)));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void SameSeedSameRun()
    {
        using var model = Create();
        var c = Config("adversarial_preservation", "cat") with { iterations = 2, ddim_steps = 5 };
        using var a = Eraser.Run(model, c);
        using var b = Eraser.Run(model, c);
        Assert.Equal(a.History.Select(r => r with { Seconds = 0 }), b.History.Select(r => r with { Seconds = 0 }));
        foreach (var (k, t) in a.Trained) Assert.Equal(Serialization.Bytes(t), Serialization.Bytes(b.Trained[k]));
    }
}
