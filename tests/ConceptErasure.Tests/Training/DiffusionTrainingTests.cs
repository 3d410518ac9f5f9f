// Continuing UNet pretraining from a shipped model (`init`): the run must start from that model's UNet weights —
// both the trained copy and its EMA — not from a fresh initialisation, and a missing model is one clear error.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Tests.Data;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ConceptErasure.Training;

namespace ConceptErasure.Tests.Training;

[Collection("global torch state")]
public class DiffusionTrainingTests
{
    static EmojiTrainingSet Sprites() => RealEmojiData.Sprites(16);

    static Dictionary<string, float[]> Weights(string file)
    {
        using var model = FoundationModel.Load();
        Serialization.LoadModule(model.Unet, file);
        return model.Unet.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    [Fact]
    public void ContinuationStartsFromTheInitModelsUNet()
    {
        var shipped = Weights(Path.Combine(FoundationModel.DefaultPath, "unet.safetensors"));
        using var model = FoundationModel.Load();
        using (no_grad())
            foreach (var (_, p) in model.Unet.named_parameters()) p.zero_();   // what a fresh start would have to undo
        using var sprites = Sprites();
        var run = Directory.CreateTempSubdirectory("ce-unet-run").FullName;
        var c = new DiffusionTrainingConfig
        {
            loop = new LoopOptions { steps = 1, batch_size = 2, checkpoint_every = 10, log_every = 100 },
            init = FoundationModel.DefaultPath, lr = 1e-9, warmup = 0,
        };
        DiffusionTraining.Train(sprites, model, c, run, resume: false, TextWriter.Null);

        // one AdamW step of lr 1e-9 moves each weight by about 1e-9: far below float32's resolution of weights ~0.1
        foreach (var file in new[] { "unet.safetensors", "unet_ema.safetensors" })
        {
            var after = Weights(Path.Combine(run, Checkpoint.FolderName, file));
            foreach (var (name, w) in shipped)
            {
                var maxDiff = w.Zip(after[name], (a, b) => Math.Abs(a - b)).Max();
                Assert.True(maxDiff < 1e-6, $"{file}: {name} is {maxDiff} away from the init model's weights");
            }
        }
    }

    [Fact]
    public void AMissingInitModelIsOneClearError()
    {
        using var model = FoundationModel.Load();
        using var sprites = Sprites();
        var run = Directory.CreateTempSubdirectory("ce-unet-run").FullName;
        var missing = Path.Combine(run, "no-such-model");
        var ex = Assert.Throws<FileNotFoundException>(() => DiffusionTraining.Train(sprites, model,
            new DiffusionTrainingConfig { init = missing, loop = new LoopOptions { steps = 1, batch_size = 2 } }, run, resume: false, TextWriter.Null));
        Assert.Contains(missing, ex.Message);
    }
}
