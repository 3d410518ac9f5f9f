// ErasureResult.cs — what an erasure run leaves behind, in a folder the notebooks and the evaluation read:
//   unet-delta.safetensors  θ′ on the trained group only: the new VALUES of the tensors that changed (not
//                           differences), loadable onto the foundation UNet with load_state_dict(strict: false);
//   manifest.json           method, every hyper-parameter (the whole config), seed, status, versions, wall time,
//                           iterations/s, peak resident memory, and the method's own facts (candidate sets, π);
//   history.csv             one row per update (θ′ and adversary), see ErasureStep.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

public enum ErasureStatus { Completed, Cancelled, NonFiniteLoss }

public sealed class ErasureResult : IDisposable
{
    public const string DeltaFile = "unet-delta.safetensors", ManifestFile = "manifest.json", HistoryFile = "history.csv";

    public ErasureConfig Config { get; }
    public ErasureStatus Status { get; }
    /// <summary>How the run ended, in words (the NaN message names the step and the losses).</summary>
    public string Message { get; }
    /// <summary>θ′ updates applied (the trained tensors are those after this many updates).</summary>
    public int IterationsDone { get; }
    public IReadOnlyList<ErasureStep> History { get; }
    /// <summary>θ′ restricted to the trained group, by parameter name (owned by this result).</summary>
    public IReadOnlyDictionary<string, Tensor> Trained { get; }
    public JsonObject Manifest { get; }

    public ErasureResult(ErasureConfig config, ErasureStatus status, string message, int done, IReadOnlyList<ErasureStep> history,
        IReadOnlyDictionary<string, Tensor> trained, JsonObject manifest)
    {
        (Config, Status, Message, IterationsDone, History, Trained, Manifest) = (config, status, message, done, history, trained, manifest);
    }

    /// <summary>The θ′ (theta) rows of the history, one per update.</summary>
    public IReadOnlyList<ErasureStep> Updates => History.Where(s => s.Phase == ErasureMethod.ThetaPhase).ToList();

    /// <summary>Throws when the run did not complete (NaN, cancellation), with its message.</summary>
    public ErasureResult ThrowIfIncomplete() =>
        Status == ErasureStatus.Completed ? this : throw new InvalidOperationException($"erasure {Status}: {Message}");

    // ---- using the erased model -------------------------------------------------------------------------------
    /// <summary>Writes the trained tensors into a UNet of the foundation's architecture (the other tensors stay).</summary>
    public void ApplyTo(UNet2DConditionModel unet) => Serialization.LoadState(unet, Trained, "the erased tensors", strict: false);

    /// <summary>A copy of the foundation UNet with the erasure applied (the caller disposes it).</summary>
    public UNet2DConditionModel ErasedUnet(FoundationModel model)
    {
        var unet = model.Unet.Clone();
        unet.Freeze();
        ApplyTo(unet);
        return unet;
    }

    // ---- saving and loading -----------------------------------------------------------------------------------
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        Serialization.Save(Trained, Path.Combine(folder, DeltaFile), new Dictionary<string, string>
        {
            ["format"] = "values of the UNet tensors the erasure trained; load with load_state_dict(strict: false)",
            ["method"] = Config.method,
            ["parameters"] = Config.parameters,
        });
        AtomicFile.WriteAllText(Path.Combine(folder, ManifestFile), Manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        AtomicFile.WriteAllText(Path.Combine(folder, HistoryFile), HistoryCsv(History));
    }

    public static ErasureResult Load(string folder)
    {
        var manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{folder} holds no erasure run (no {ManifestFile})", manifestPath);
        JsonObject manifest;
        ErasureConfig config;
        string statusText;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(manifestPath))?.AsObject() ?? throw new InvalidDataException($"{manifestPath}: empty");
            config = manifest["config"].Deserialize<ErasureConfig>() ?? throw new InvalidDataException($"{manifestPath}: no config");
            statusText = (string?)manifest["status"] ?? throw new InvalidDataException($"{manifestPath}: no status");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{manifestPath}: not a valid erasure manifest ({e.Message})", e);
        }
        if (statusText == "Running")
            throw new InvalidDataException($"{folder}: the erasure has not finished (manifest status Running: still running, or killed before it saved)");
        if (!Enum.TryParse<ErasureStatus>(statusText, out var status))
            throw new InvalidDataException($"{manifestPath}: unknown status '{statusText}'");
        var history = ParseHistory(File.ReadAllText(Path.Combine(folder, HistoryFile)));
        var trained = Serialization.Load(Path.Combine(folder, DeltaFile));
        return new ErasureResult(config, status, (string?)manifest["message"] ?? "", (int?)manifest["iterations_done"] ?? 0, history, trained, manifest);
    }

    // ---- history as CSV -----------------------------------------------------------------------------------------
    static readonly string[] Columns = ["step", "phase", "concept", "t_enc", "t", "l1", "l2", "loss", "applied", "candidate", "top_candidate", "top_probability", "drift", "seconds"];

    public static string HistoryCsv(IEnumerable<ErasureStep> rows)
    {
        static string N(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";
        var sb = new StringBuilder(string.Join(",", Columns)).Append('\n');
        foreach (var r in rows)
            sb.Append(string.Join(",", r.Step.ToString(CultureInfo.InvariantCulture), r.Phase, Csv.Quote(r.Concept), r.TEnc.ToString(CultureInfo.InvariantCulture),
                r.T.ToString(CultureInfo.InvariantCulture), N(r.L1), N(r.L2), N(r.Loss), r.Applied ? "1" : "0", Csv.Quote(r.Candidate), Csv.Quote(r.TopCandidate),
                N(r.TopProbability), N(r.Drift), N(r.Seconds))).Append('\n');
        return sb.ToString();
    }

    public static List<ErasureStep> ParseHistory(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0] != string.Join(",", Columns)) throw new InvalidDataException("history.csv: unexpected header");
        var rows = new List<ErasureStep>();
        foreach (var line in lines.Skip(1))
        {
            var f = Csv.Split(line);
            if (f.Count != Columns.Length) throw new InvalidDataException($"history.csv: a row has {f.Count} fields, expected {Columns.Length}");
            double? D(int i) => f[i].Length == 0 ? null : double.Parse(f[i], CultureInfo.InvariantCulture);
            string? S(int i) => f[i].Length == 0 ? null : f[i];
            rows.Add(new ErasureStep(int.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), D(5), D(6), D(7) ?? double.NaN, f[8] == "1")
            { Candidate = S(9), TopCandidate = S(10), TopProbability = D(11), Drift = D(12), Seconds = D(13) ?? 0 });
        }
        return rows;
    }

    // ---- machine facts ------------------------------------------------------------------------------------------
    /// <summary>Peak resident set size of this process so far (VmHWM of /proc/self/status), in bytes; null off Linux.</summary>
    public static long? PeakResidentBytes() => ProcStatus("VmHWM:");

    /// <summary>The process's resident memory now (VmRSS of /proc/self/status), or null where there is no procfs.</summary>
    public static long? ResidentBytes() => ProcStatus("VmRSS:");

    static long? ProcStatus(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field))
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    public void Dispose()
    {
        foreach (var t in Trained.Values) t.Dispose();
    }
}
