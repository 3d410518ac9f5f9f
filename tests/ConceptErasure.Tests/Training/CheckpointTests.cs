// Checkpoints: a resumed run continues to bit-identical weights; corrupt checkpoints give a clear error.
using ConceptErasure.Torch;
using ConceptErasure.Torch.nn;
using ConceptErasure.Torch.optim;
using ConceptErasure.Training;

namespace ConceptErasure.Tests.Training;

[Collection("global torch state")]
public class CheckpointTests
{
    /// <summary>A small regression trained with random batches from a generator, through TrainingLoop.</summary>
    static float[] Train(string dir, long steps, bool resume)
    {
        torch.manual_seed(3);
        using var net = new Sequential(new Linear(4, 16), new SiLU(), new Dropout(0.1), new Linear(16, 1));
        using var opt = new AdamW(net.parameters_(), 1e-2);
        using var g = new Generator(7);
        using var ema = new Ema(net, 0.9);
        var parts = new Checkpoint.Parts();
        parts.Modules["net"] = net; parts.Modules["ema"] = ema.Model; parts.Optimizers["net"] = opt; parts.Generators["g"] = g;
        TrainingLoop.Run(dir, new LoopOptions { steps = steps, batch_size = 8, checkpoint_every = 2, log_every = 100 }, parts, opt,
            new LrSchedule.WarmupCosine(1e-2, 2, 6), s =>
            {
                var x = torch.randn([8, 4], g);
                opt.zero_grad();
                var loss = F.mse_loss(net.forward(x), x.sum(1, keepdim: true).sin());   // dropout uses the global generator
                loss.backward();
                opt.step();
                ema.Update();
                return new Dictionary<string, double> { ["loss"] = loss.item() };
            }, resume, TextWriter.Null);
        return net.parameters_().Concat(ema.Model.parameters_()).SelectMany(p => p.data<float>()).ToArray();
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
