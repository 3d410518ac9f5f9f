// Checkpoint.cs — resumable training state on disk: modules, optimiser moments, EMA weights, the step, and every
// random generator's state, so that a resumed run continues bit-identically. A checkpoint is a folder
// (`checkpoint/`) of safetensors files plus `state.json`; it is written to `checkpoint.tmp/` and swapped in by
// renames, so a run killed at any moment leaves either the previous or the new checkpoint, never half of one.
// Optimiser state is TorchSharp's own format (`save_state_dict`); checkpoints written by the workbook before it moved
// to TorchSharp (December 2026) cannot be resumed.
using ConceptErasure.Data;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Training;

public sealed class Checkpoint
{
    public const string FolderName = "checkpoint";
    readonly string runDir;
    public Checkpoint(string runDir) => this.runDir = runDir;
    public string Folder => Path.Combine(runDir, FolderName);
    /// <summary>True when a checkpoint can be loaded: the folder, or the `checkpoint.old` a kill between the two renames
    /// of a save leaves behind (Load puts it back).</summary>
    public bool Exists => File.Exists(Path.Combine(Folder, "state.json")) || File.Exists(Path.Combine(Folder + ".old", "state.json"));

    /// <summary>Everything a training loop needs to restore, by role.</summary>
    public sealed class Parts
    {
        public Dictionary<string, nn.Module> Modules { get; } = new();
        public Dictionary<string, OptimizerHelper> Optimizers { get; } = new();
        public Dictionary<string, Generator> Generators { get; } = new();
        /// <summary>Loose tensors saved as they are (tensors.safetensors); after Load, the saved ones (caller disposes).</summary>
        public Dictionary<string, Tensor> Tensors { get; set; } = new();
    }

    public void Save(long step, Parts parts, JsonObject? extra = null)
    {
        RecoverInterruptedSwap();   // a leftover checkpoint.old may be the only good checkpoint: never delete it unread
        var tmp = Folder + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        foreach (var (name, m) in parts.Modules) Serialization.SaveModule(m, Path.Combine(tmp, name + ".safetensors"));
        foreach (var (name, o) in parts.Optimizers) o.save_state_dict(Path.Combine(tmp, name + ".optimizer.bin"));
        if (parts.Tensors.Count > 0) Serialization.Save(parts.Tensors, Path.Combine(tmp, "tensors.safetensors"));
        var json = new JsonObject
        {
            ["step"] = step,
            ["global_rng"] = Convert.ToBase64String(GlobalRngState()),
            ["generators"] = new JsonObject(parts.Generators.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Convert.ToBase64String(Rng.GetState(kv.Value))))),
            ["extra"] = extra?.DeepClone() ?? new JsonObject(),
        };
        File.WriteAllText(Path.Combine(tmp, "state.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        // swap: checkpoint → checkpoint.old, checkpoint.tmp → checkpoint, drop the old one
        var old = Folder + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(Folder)) Directory.Move(Folder, old);
        Directory.Move(tmp, Folder);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>Restores the parts saved by Save and returns (step, extra).</summary>
    public (long step, JsonObject extra) Load(Parts parts)
    {
        RecoverInterruptedSwap();
        var statePath = Path.Combine(Folder, "state.json");
        if (!File.Exists(statePath)) throw new FileNotFoundException($"no checkpoint in {runDir} (expected {statePath})");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(statePath))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new InvalidDataException($"{statePath}: not a valid checkpoint state ({e.Message})", e); }
        foreach (var (name, m) in parts.Modules) Serialization.LoadModule(m, Path.Combine(Folder, name + ".safetensors"));
        foreach (var (name, o) in parts.Optimizers)
        {
            var path = Path.Combine(Folder, name + ".optimizer.bin");
            if (!File.Exists(path)) throw new InvalidDataException($"{Folder}: no optimiser state '{name}' (a checkpoint from before the TorchSharp engine cannot be resumed)");
            try { o.load_state_dict(path); }
            catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException)
            { throw new InvalidDataException($"{path}: not a valid optimiser state ({e.Message})", e); }
        }
        SetGlobalRngState(Convert.FromBase64String((string)json["global_rng"]!), statePath);
        var loose = Path.Combine(Folder, "tensors.safetensors");
        parts.Tensors = File.Exists(loose) ? Serialization.Load(loose) : new Dictionary<string, Tensor>();
        var gens = json["generators"]!.AsObject();
        foreach (var (name, g) in parts.Generators)
            Rng.SetState(g, Convert.FromBase64String((string?)gens[name] ?? throw new InvalidDataException($"{statePath}: no state for generator '{name}'")));
        return ((long)json["step"]!, json["extra"]?.AsObject() ?? new JsonObject());
    }

    static byte[] GlobalRngState()
    {
        using var s = torch.random.get_rng_state();
        return s.data<byte>().ToArray();
    }
    static void SetGlobalRngState(byte[] state, string source)
    {
        using var current = torch.random.get_rng_state();
        if (state.Length != current.numel()) throw new InvalidDataException($"{source}: the global random state has {state.Length} bytes, expected {current.numel()}");
        using var t = torch.tensor(state, ScalarType.Byte);
        torch.random.set_rng_state(t);
    }

    /// <summary>A crash between the two renames of Save leaves only checkpoint.old: put it back.</summary>
    void RecoverInterruptedSwap()
    {
        var old = Folder + ".old";
        if (!Directory.Exists(Folder) && Directory.Exists(old)) Directory.Move(old, Folder);
    }
}

/// <summary>Exponential moving average of a model's parameters (θ_ema ← d·θ_ema + (1−d)·θ), kept in a clone.</summary>
public sealed class Ema : IDisposable
{
    readonly (Parameter target, Parameter source)[] pairs;
    public nn.Module Model { get; }
    public double Decay { get; }

    /// <param name="copy">a module of the same architecture as <paramref name="source"/>; it starts from the source's values
    /// and the EMA owns it.</param>
    public Ema(nn.Module source, nn.Module copy, double decay)
    {
        if (decay is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), "EMA decay must be in [0, 1)");
        Decay = decay;
        Model = copy;
        using (no_grad()) Serialization.LoadState(Model, source.state_dict(), $"the EMA's source {source.GetType().Name}");
        Model.Freeze();
        pairs = Model.named_parameters().Zip(source.named_parameters(), (a, b) => (a.parameter, b.parameter)).ToArray();
    }

    public void Update()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (t, s) in pairs) t.mul_(Decay).add_(s, 1 - Decay);
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>One status line per interval: step, loss, throughput and ETA.</summary>
public sealed class Progress(long totalSteps, TextWriter output, long startStep = 0)
{
    readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    readonly long start = startStep;
    public TimeSpan Elapsed => clock.Elapsed;

    public void Report(long step, int batch, IReadOnlyDictionary<string, double> values)
    {
        var done = step - start;
        var secs = clock.Elapsed.TotalSeconds;
        var rate = done / Math.Max(secs, 1e-9);
        var eta = TimeSpan.FromSeconds((totalSteps - step) / Math.Max(rate, 1e-9));
        var vals = string.Join("  ", values.Select(kv => $"{kv.Key} {kv.Value:F4}"));
        output.WriteLine(System.FormattableString.Invariant(
            $"step {step}/{totalSteps}  {vals}  {rate * batch:F1} img/s  elapsed {Format(clock.Elapsed)}  ETA {Format(eta)}"));
        output.Flush();
    }
    static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
