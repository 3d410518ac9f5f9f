// Checkpoints: a resumed run continues to bit-identical weights; corrupt checkpoints give a clear error.
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ConceptErasure.Training;

namespace ConceptErasure.Tests.Training;

[Collection("global torch state")]
public class CheckpointTests
{
    static Sequential Net() => nn.Sequential(nn.Linear(4, 16), nn.SiLU(), nn.Dropout(0.1), nn.Linear(16, 1));

    /// <summary>A small regression trained with random batches from a generator, through TrainingLoop.</summary>
    static float[] Train(string dir, long steps, bool resume)
    {
        torch.manual_seed(3);
        using var net = Net();
        using var opt = optim.AdamW(net.parameters(), 1e-2);
        using var g = Rng.Create(7);
        using var ema = new Ema(net, Net(), 0.9);
        var parts = new Checkpoint.Parts();
        parts.Modules["net"] = net; parts.Modules["ema"] = ema.Model; parts.Optimizers["net"] = opt; parts.Generators["g"] = g;
        TrainingLoop.Run(dir, new LoopOptions { steps = steps, batch_size = 8, checkpoint_every = 2, log_every = 100 }, parts, opt,
            new LrSchedule.WarmupCosine(1e-2, 2, 6), s =>
            {
                var x = Rng.randn([8, 4], g);
                opt.zero_grad();
                var loss = nn.functional.mse_loss(net.forward(x), x.sum(1, keepdim: true).sin());   // dropout uses the global generator
                loss.backward();
                opt.step();
                ema.Update();
                return new Dictionary<string, double> { ["loss"] = loss.ToDouble() };
            }, resume, TextWriter.Null);
        return net.parameters().Concat(ema.Model.parameters()).SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void ResumedRunIsBitIdenticalToAnUninterruptedOne()
    {
        var a = Directory.CreateTempSubdirectory("ce-ck");
        var b = Directory.CreateTempSubdirectory("ce-ck");
        try
        {
            var straight = Train(a.FullName, 6, resume: false);
            Train(b.FullName, 3, resume: false);          // stops after step 3 (checkpoint at 2 and at the end, 3)
            var resumed = Train(b.FullName, 6, resume: true);
            Assert.Equal(straight, resumed);
            Assert.Throws<InvalidOperationException>(() => Train(b.FullName, 6, resume: false));   // never overwrite silently
        }
        finally { a.Delete(true); b.Delete(true); }
    }

    [Fact]
    public void CorruptCheckpointIsAClearError()
    {
        var dir = Directory.CreateTempSubdirectory("ce-ck");
        try
        {
            Train(dir.FullName, 2, resume: false);
            var file = Path.Combine(dir.FullName, Checkpoint.FolderName, "net.safetensors");
            var bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
            var ex = Assert.Throws<InvalidDataException>(() => Train(dir.FullName, 4, resume: true));
            Assert.Contains("net.safetensors", ex.Message);
            File.WriteAllText(Path.Combine(dir.FullName, Checkpoint.FolderName, "state.json"), "{ not json");
            Assert.Contains("state.json", Assert.Throws<InvalidDataException>(() => Train(dir.FullName, 4, resume: true)).Message);
        }
        finally { dir.Delete(true); }
    }
}
