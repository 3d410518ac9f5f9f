// Eraser.cs — runs one erasure: validate, set up the method, loop over θ′ updates, and hand back an ErasureResult.
//
// The loop is the same for every method (ESD, the preservation variants, adversarial preservation):
//   0. refuse a bad config before any work (ErasureConfig.Validate: unknown concepts with suggestions, bad values);
//   1. build θ, θ′ and the method's own state (candidate sets, π, c_a);
//   2. for each iteration: stop cleanly when cancelled; run the method's step inside a dispose scope; stop when a
//      loss is not finite — the update with the bad loss was not applied, so θ′ keeps its last good parameters;
//   3. collect the trained tensors, the history and a manifest (versions, timing, peak memory).
// With checkpointing, the state (ErasureState.cs) is written into <folder>/checkpoint every few updates and when
// stopped, and a resumed run continues from it bit-identically; a checkpoint made with another config is refused.
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public static class Eraser
{
    /// <summary>The method object of a config (θ, θ′ and the method's state are built here; the caller disposes it).</summary>
    public static ErasureMethod Create(FoundationModel model, ErasureConfig config) => config.method switch
    {
        ErasureConfig.Methods.Naive or ErasureConfig.Methods.Esd => new Esd(model, config),
        ErasureConfig.Methods.FixedPreservation => new FixedPreservation(model, config),
        ErasureConfig.Methods.ParameterRegularisation => new ParameterRegularisation(model, config),
        ErasureConfig.Methods.AdversarialPreservation => new AdversarialPreservation(model, config),
        ErasureConfig.Methods.AdversarialPgd => new AdversarialPgd(model, config),
        ErasureConfig.Methods.Uce => new Uce(model, config),
        _ => throw new ErasureConfigException([$"method '{config.method}' is not one of {string.Join(", ", ErasureConfig.Methods.All)}"]),
    };

    /// <summary>Erases the config's concepts from a copy of the model's UNet; the model itself is not changed.</summary>
    /// <param name="log">progress lines (every config.log_every updates), or null</param>
    /// <param name="cancel">stops after the current iteration; the result then holds the updates done</param>
    /// <param name="onIteration">called after each iteration with its history rows and the live method (θ′, π…)</param>
    /// <param name="knownConcepts">when given, erased concepts must be among these (e.g. the concepts the model was trained on)</param>
    /// <param name="checkpointing">where to checkpoint the run (and whether to continue its checkpoint); null: none</param>
    public static ErasureResult Run(FoundationModel model, ErasureConfig config, TextWriter? log = null, CancellationToken cancel = default,
        Action<IReadOnlyList<ErasureStep>, ErasureMethod>? onIteration = null, IReadOnlyCollection<string>? knownConcepts = null,
        ErasureCheckpointing? checkpointing = null)
    {
        // 0. validation, before any work
        config.Validate(model, knownConcepts);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();

        // 1. θ, θ′ and the method's state
        using var method = Create(model, config);
        var setupSeconds = clock.Elapsed.TotalSeconds;
        var updates = method.Updates;   // config.iterations, or 1 for a closed-form method
        log?.WriteLine($"erasing {string.Join(", ", config.erase.Select(c => $"'{c}'"))} with {config.method}: {updates} update{(updates == 1 ? "" : "s")} of " +
                       $"{method.TrainedParameters.Count} tensors ({method.TrainedParameters.Sum(p => p.parameter.numel()):N0} parameters, group {config.parameters}); setup {setupSeconds:F1}s");
        if (method is AdversarialPreservation ap)
            foreach (var a in ap.Adversaries)
                log?.WriteLine($"  candidates for '{a.Candidates.Concept}' ({a.Candidates.Candidates.Count} of {a.Candidates.Clustered} nearest): {string.Join(", ", a.Candidates.Words.Take(12))}{(a.Candidates.Candidates.Count > 12 ? ", …" : "")}");

        // 2. the loop (from the checkpoint's step when resuming)
        var history = new List<ErasureStep>();
        var status = ErasureStatus.Completed;
        var message = "completed";
        var done = 0;
        var first = 1;
        var secondsBefore = 0.0;
        var configJson = JsonSerializer.SerializeToNode(config, ErasureConfig.Json)!;
        var ckpt = checkpointing is null ? null : new Training.Checkpoint(checkpointing.Folder);
        if (checkpointing is { Resume: true })
        {
            if (!ckpt!.Exists) throw new InvalidOperationException($"--resume: {checkpointing.Folder} holds no erasure checkpoint");
            var parts = new Training.Checkpoint.Parts();
            method.AddTo(parts);
            var (step, extra) = ckpt.Load(parts);
            try
            {
                if (!JsonNode.DeepEquals(extra["config"], configJson))
                    throw new ArgumentException($"--resume: the checkpoint in {checkpointing.Folder} was made with another erasure config; resume with the same options");
                method.RestoreState(parts.Tensors, extra["method"]!.AsObject());
            }
            finally { foreach (var t in parts.Tensors.Values) t.Dispose(); }
            history.AddRange(ErasureResult.ParseHistory((string)extra["history"]!));
            done = (int)extra["done"]!;
            secondsBefore = (double)extra["seconds"]!;
            first = (int)step + 1;
            log?.WriteLine($"resumed from {ckpt.Folder} after update {step}");
        }
        var loopClock = Stopwatch.StartNew();
        void Checkpoint(int step)
        {
            var parts = new Training.Checkpoint.Parts();
            method.AddTo(parts);
            parts.Tensors = method.StateTensors();
            ckpt!.Save(step, parts, new JsonObject
            {
                ["config"] = configJson.DeepClone(), ["method"] = method.StateJson(), ["done"] = done,
                ["seconds"] = secondsBefore + clock.Elapsed.TotalSeconds, ["history"] = ErasureResult.HistoryCsv(history),
            });
        }
        var rss = new List<(int step, double mib)>();
        void SampleRss(int step) { if (ErasureResult.ResidentBytes() is { } b) rss.Add((step, Math.Round(b / 1048576.0, 1))); }
        SampleRss(0);
        // rows of a step (or of work a step deferred, Flush) into the history; the first non-finite row stops the run
        bool Take(IReadOnlyList<ErasureStep> rows, int step)
        {
            var seconds = secondsBefore + clock.Elapsed.TotalSeconds;
            rows = rows.Select(r => r with { Seconds = seconds }).ToList();
            history.AddRange(rows);
            done += rows.Count(r => r.Phase == ErasureMethod.ThetaPhase && r.Applied);
            onIteration?.Invoke(rows, method);
            var bad = rows.FirstOrDefault(r => !r.Finite);
            if (bad is null) return true;
            status = ErasureStatus.NonFiniteLoss;
            message = bad.Phase == ErasureMethod.ThetaPhase
                ? $"the loss became {bad.Loss} at update {bad.Step} (L1 {bad.L1}, L2 {bad.L2}); that update was not applied, so θ′ keeps the parameters of update {done}"
                : $"the adversary's L2 became {bad.Loss} after update {bad.Step}; θ′ keeps the parameters of update {done}, whose loss was finite";
            log?.WriteLine($"stopped: {message}");
            return false;
        }
        IReadOnlyList<ErasureStep> Flush() { using (NewDisposeScope()) return method.Flush(); }
        var stopped = false;
        for (var step = first; step <= updates; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                status = ErasureStatus.Cancelled;
                message = $"cancelled after {done} of {updates} updates";
                var flushed = Take(Flush(), step - 1);
                if (ckpt is not null && flushed) { Checkpoint(step - 1); message += $"; checkpoint written — continue with --resume"; }
                stopped = true;
                break;
            }
            IReadOnlyList<ErasureStep> rows;
            using (NewDisposeScope()) rows = method.Step(step);
            if (!Take(rows, step)) { stopped = true; break; }
            if (step % Math.Min(config.log_every, 25) == 0 || step == updates) SampleRss(step);
            if (ckpt is not null && checkpointing!.Every > 0 && step % checkpointing.Every == 0 && step < updates)
            {
                if (!Take(Flush(), step)) { stopped = true; break; }
                Checkpoint(step);
            }
            if (log is not null && (step % config.log_every == 0 || step == updates))
                log.WriteLine(ProgressLine(history, step, updates, config, loopClock.Elapsed.TotalSeconds) + (rss.Count > 0 ? FormattableString.Invariant($"  RSS {rss[^1].mib:F0} MiB") : ""));
        }
        if (!stopped) Take(Flush(), updates);
        var loopSeconds = loopClock.Elapsed.TotalSeconds;

        // 3. trained tensors, manifest
        var trained = method.TrainedState();
        var split = method.SectionSeconds.ToDictionary(kv => kv.Key, kv => kv.Value);
        split[ErasureMethod.Sections.Losses] = loopSeconds - split.Values.Sum();
        log?.WriteLine("time: " + string.Join(", ", split.OrderByDescending(kv => kv.Value).Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F1}s ({kv.Value / Math.Max(loopSeconds, 1e-9):P0})"))));
        var manifest = Manifest(model, config, method, status, message, done, started, clock.Elapsed.TotalSeconds, setupSeconds, loopSeconds, split, rss);
        return new ErasureResult(config, status, message, done, history, trained, manifest);
    }

    static string ProgressLine(List<ErasureStep> history, int step, int updates, ErasureConfig config, double seconds)
    {
        var recent = history.Where(r => r.Phase == ErasureMethod.ThetaPhase).TakeLast(config.log_every).ToList();
        var line = FormattableString.Invariant($"step {step}/{updates}  L1 {recent.Average(r => r.L1 ?? 0):F5}");
        if (recent.Any(r => r.L2 is not null)) line += FormattableString.Invariant($"  L2 {recent.Average(r => r.L2 ?? 0):F5}");
        var last = history[^1];
        if (last.TopCandidate is not null) line += FormattableString.Invariant($"  c_a {recent[^1].Candidate}  top {last.TopCandidate} ({last.TopProbability:P0})");
        if (last.Drift is not null) line += FormattableString.Invariant($"  drift {last.Drift:F4}");
        var rate = step / Math.Max(seconds, 1e-9);
        var eta = TimeSpan.FromSeconds(Math.Min((updates - step) / Math.Max(rate, 1e-9), TimeSpan.MaxValue.TotalSeconds / 2));
        return line + FormattableString.Invariant($"  {rate:F2} it/s  ETA {(long)eta.TotalHours:D2}:{eta.Minutes:D2}:{eta.Seconds:D2}");   // hours past a day included
    }

    static JsonObject Manifest(FoundationModel model, ErasureConfig config, ErasureMethod method, ErasureStatus status, string message,
        int done, DateTime started, double wall, double setup, double loop, IReadOnlyDictionary<string, double> split, IReadOnlyList<(int step, double mib)> rss)
    {
        var peak = ErasureResult.PeakResidentBytes();
        var assembly = typeof(Eraser).Assembly;
        return new JsonObject
        {
            ["method"] = config.method,
            ["erase"] = new JsonArray(config.erase.Select(c => (JsonNode?)c).ToArray()),
            ["seed"] = config.seed,
            ["status"] = status.ToString(),
            ["message"] = message,
            ["iterations_done"] = done,
            ["effective"] = new JsonObject { ["lambda"] = config.EffectiveLambda, ["eta"] = config.EffectiveEta },
            ["trained"] = new JsonObject
            {
                ["group"] = config.parameters,
                ["tensors"] = method.TrainedParameters.Count,
                ["parameters"] = method.TrainedParameters.Sum(p => p.parameter.numel()),
                ["unet_parameters"] = method.Trainable.ParameterCount(),
            },
            ["config"] = JsonSerializer.SerializeToNode(config, ErasureConfig.Json),
            ["method_facts"] = method.Describe(),
            ["timing"] = new JsonObject
            {
                ["started_utc"] = started.ToString("O"),
                ["wall_seconds"] = wall,
                ["setup_seconds"] = setup,
                ["loop_seconds"] = loop,
                ["iterations_per_second"] = done / Math.Max(loop, 1e-9),
                ["split_seconds"] = new JsonObject(split.OrderByDescending(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 3)))),
            },
            ["memory"] = new JsonObject { ["peak_rss_bytes"] = peak, ["peak_rss_mib"] = peak is { } b ? Math.Round(b / 1048576.0, 1) : null, ["source"] = "VmHWM of /proc/self/status (whole process)",
                ["rss_mib_by_update"] = new JsonArray(rss.Select(x => (JsonNode)new JsonArray(x.step, x.mib)).ToArray()) },
            ["versions"] = new JsonObject
            {
                ["concept_erasure"] = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString(),
                ["torchsharp"] = TorchRuntime.Versions["torchsharp"],
                ["libtorch"] = TorchRuntime.Versions["libtorch"],
                ["dotnet"] = Environment.Version.ToString(),
                ["os"] = RuntimeInformation.OSDescription,
            },
            ["device"] = model.Device.ToString(),
            ["threads"] = torch.get_num_threads(),
            ["foundation"] = new JsonObject { ["prediction"] = model.Config.unet.prediction_type, ["train_timesteps"] = model.Schedule.TrainSteps },
            // which weights were erased from: the audit refuses to pair this run with any other foundation model
            ["weights"] = model.Folder is { } folder ? new JsonObject(Fingerprint.Of(folder).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) : null,
        };
    }
}

/// <summary>Where a run checkpoints itself (<c>&lt;Folder&gt;/checkpoint</c>), every how many updates (0: only when
/// stopped), and whether it continues the checkpoint there.</summary>
public sealed record ErasureCheckpointing(string Folder, int Every = 25, bool Resume = false)
{
    public string CheckpointFolder => Path.Combine(Folder, Training.Checkpoint.FolderName);

    /// <summary>Removes the checkpoint once the run's results are saved.</summary>
    public void Remove()
    {
        foreach (var d in new[] { CheckpointFolder, CheckpointFolder + ".old", CheckpointFolder + ".tmp" })
            if (Directory.Exists(d)) Directory.Delete(d, true);
    }
}
