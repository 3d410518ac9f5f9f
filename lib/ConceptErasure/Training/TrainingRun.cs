// TrainingRun.cs — the checks a training command makes before any setup (loading data, building models), so that a
// refusal costs nothing and writes nothing: a fresh run needs an empty, writable folder (or --overwrite); a resumed
// run needs a checkpoint and the recipe it was started with, unchanged (a different lr or batch would silently bend
// the run's history; the keys that differ are named). Only then is the recipe written (atomically).
using System.Text.Json.Nodes;
using ConceptErasure.Data;

namespace ConceptErasure.Training;

public static class TrainingRun
{
    public const string RecipeFile = "train-config.json";

    /// <param name="recipeJson">the resolved training configuration, as written to train-config.json</param>
    public static void Start(string runDir, string recipeJson, bool resume, bool overwrite)
    {
        var ckpt = new Checkpoint(runDir);
        if (resume)
        {
            if (overwrite) throw new ArgumentException("--resume continues a run and --overwrite discards it: give one of them");
            if (!ckpt.Exists) throw new InvalidOperationException($"--resume: {runDir} holds no checkpoint to continue");
            var path = Path.Combine(runDir, RecipeFile);
            if (!File.Exists(path)) throw new InvalidDataException($"--resume: {path} is missing, so the run's recipe cannot be checked");
            var (old, now) = (JsonNode.Parse(File.ReadAllText(path)), JsonNode.Parse(recipeJson));
            var differences = Differences(old, now, "").ToList();
            if (differences.Count > 0)
                throw new ArgumentException($"--resume with another recipe than the run was started with ({string.Join("; ", differences.Take(6))}): " +
                                            "resume with the same options, or start a new run folder");
            RunFolder.Prepare(runDir, overwrite: false, allowExisting: true);
            return;
        }
        if (ckpt.Exists && !overwrite)
            throw new InvalidOperationException($"{runDir} already holds a checkpoint: pass --resume to continue it, --overwrite to start over, or choose another folder");
        RunFolder.Prepare(runDir, overwrite);
        AtomicFile.WriteAllText(Path.Combine(runDir, RecipeFile), recipeJson);
    }

    /// <summary>"key: old → new" for every leaf that differs between two JSON trees.</summary>
    static IEnumerable<string> Differences(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)).Order(StringComparer.Ordinal))
                foreach (var d in Differences(oa[key], ob[key], path.Length == 0 ? key : path + "." + key)) yield return d;
        }
        else if (!JsonNode.DeepEquals(a, b))
            yield return $"{path}: {a?.ToJsonString() ?? "none"} → {b?.ToJsonString() ?? "none"}";
    }
}
