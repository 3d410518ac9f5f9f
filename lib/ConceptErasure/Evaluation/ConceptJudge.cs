// ConceptJudge.cs — the concept classifier that plays ResNet-50's role in the paper's evaluation (ESR/PSR are
// its top-1/top-5 on generated images) and NudeNet's role for the harmful-content task (weapon detection), with
// a second head for the art style. Its pooled penultimate features define the "FID in emoji space".
// Trained on real sprites with augmentation (shift, scale, blur, noise), so that it judges generations robustly.
using System.Text.Json;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Evaluation;

public sealed record ConceptJudgeConfig
{
    public int[] channels { get; init; } = [48, 96, 192];   // conv tower: 32 → 16 → 8 → 4 → pooled
    public string[] concepts { get; init; } = [];            // class names, in logit order
    public string[] styles { get; init; } = [];              // style names, in logit order
}

/// <summary>Top-k predictions of the judge for a batch.</summary>
public sealed record JudgeOutput(long[] Top5Concepts, float[] Top5Probabilities, long[] Style, float[] Features, int FeatureWidth, int Count)
{
    public long Top1(int i) => Top5Concepts[i * 5];
    public bool InTop(int i, long label, int k) => Top5Concepts.Skip(i * 5).Take(k).Contains(label);
}

public sealed class ConceptJudge : nn.Module
{
    public readonly ConceptJudgeConfig config;
    public readonly ClipVisionTower tower;
    public readonly Linear concept_head, style_head;
    readonly Dictionary<string, int> conceptIndex;

    public ConceptJudge(ConceptJudgeConfig config) : base(nameof(ConceptJudge))
    {
        if (config.concepts.Length == 0 || config.styles.Length == 0) throw new ArgumentException("judge needs concept and style labels");
        this.config = config;
        tower = new ClipVisionTower(config.channels);
        concept_head = nn.Linear(tower.Width, config.concepts.Length);
        style_head = nn.Linear(tower.Width, config.styles.Length);
        conceptIndex = config.concepts.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        RegisterComponents();
    }

    public int ConceptId(string name) => conceptIndex.TryGetValue(name, out var i) ? i
        : throw new ArgumentException($"the judge does not know the concept '{name}'");

    /// <summary>(concept logits, style logits, features) for images in [−1, 1].</summary>
    public (Tensor concepts, Tensor styles, Tensor features) forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var f = tower.forward(images);
        return (concept_head.forward(f).MoveToOuterDisposeScope(), style_head.forward(f).MoveToOuterDisposeScope(), f.MoveToOuterDisposeScope());
    }

    /// <summary>Judges a batch without gradient (in chunks of 256).</summary>
    public JudgeOutput Judge(Tensor images)
    {
        using var _ = no_grad();
        var n = (int)images.size(0);
        var top = new List<long>(); var prob = new List<float>(); var style = new List<long>(); var feats = new List<float>();
        for (var i = 0; i < n; i += 256)
        {
            using var scope = NewDisposeScope();
            var (c, s, f) = forward(images.narrow(0, i, Math.Min(256, n - i)));
            var (p, idx) = c.softmax(1).topk(5, 1);
            top.AddRange(idx.data<long>()); prob.AddRange(p.data<float>());
            style.AddRange(s.argmax(1).data<long>()); feats.AddRange(f.data<float>());
        }
        return new JudgeOutput(top.ToArray(), prob.ToArray(), style.ToArray(), feats.ToArray(), tower.Width, n);
    }


    public const string FolderName = "judge";
    public static string DefaultPath => Path.Combine(DataPaths.DataDir(), "models", FolderName);

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "judge.json"), JsonSerializer.Serialize(config, FoundationConfig.Json) + "\n");
        Serialization.SaveModule(this, Path.Combine(folder, "judge.safetensors"));
    }

    public static ConceptJudge Load(string? folder = null)
    {
        folder ??= DefaultPath;
        var path = Path.Combine(folder, "judge.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"no concept judge at {folder} (expected {path})");
        ConceptJudgeConfig config;
        try { config = JsonSerializer.Deserialize<ConceptJudgeConfig>(File.ReadAllText(path), FoundationConfig.Json)!; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        ConceptJudge judge;
        judge = new ConceptJudge(config);
        Serialization.LoadModule(judge, Path.Combine(folder, "judge.safetensors"));
        judge.eval();
        judge.Freeze();
        return judge;
    }
}
