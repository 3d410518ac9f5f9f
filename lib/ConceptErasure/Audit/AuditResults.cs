// AuditResults.cs — reading back what `workbook audit` wrote (audit.json per audited run), and the summaries the
// concealment chapter reports: per-ψ curves averaged over prompts with a bootstrap interval, and CRS/CCS per run and
// role. The JSON options live here so that the writer (the CLI) and the readers (notebooks, tests) cannot drift.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ConceptErasure.Evaluation;

namespace ConceptErasure.Audit;

/// <summary>One audited run: its folder name, what it was (method and parameter group of an erase run, or "model"),
/// and its prompts' audits.</summary>
public sealed record AuditedRun(string Name, string Kind, string? Method, string? Parameters, IReadOnlyList<PromptAudit> Prompts, ConcealmentAuditOptions Options)
{
    public IReadOnlyList<PromptAudit> Of(PromptRole role) => Prompts.Where(p => p.Role == role).ToList();

    /// <summary>The run's scored prompts of one role (those whose classifier passed the bar).</summary>
    public IReadOnlyList<PromptAudit> Scored(PromptRole role) => Prompts.Where(p => p.Role == role && p.Ccs is not null).ToList();

    /// <summary>CCS over the role's scored prompts: mean with its bootstrap interval (null when none scored).</summary>
    public Summary? Ccs(PromptRole role) => Scored(role) is { Count: > 0 } s ? Statistics.Summarize(s.Select(p => p.Ccs!.Value).ToList()) : null;

    public Summary? Crs(PromptRole role) => Scored(role) is { Count: > 0 } s ? Statistics.Summarize(s.Select(p => p.Crs!.Value).ToList()) : null;

    /// <summary>One measurement per ψ of the grid (in grid order), summarised over the role's prompts; prompts where the
    /// value is NaN (no classifier) are left out of that ψ.</summary>
    public IReadOnlyList<(double psi, Summary? value)> Curve(PromptRole role, Func<PsiPoint, double> value)
    {
        var prompts = Of(role);
        return Options.attack.psi.Select((psi, i) =>
        {
            var xs = prompts.Select(p => value(p.Points[i])).Where(v => !double.IsNaN(v)).ToList();
            return (psi, xs.Count > 0 ? Statistics.Summarize(xs) : (Summary?)null);
        }).ToList();
    }

    /// <summary>How a per-ψ value changes between two grid points, prompt by prompt (value at <paramref name="to"/>
    /// minus value at <paramref name="from"/>), summarised over the role's prompts where both are numbers: the
    /// paper's "CCS jumps between ψ = 0.05 and 0.15" as a mean change with its bootstrap interval.</summary>
    public Summary? Change(PromptRole role, double from, double to, Func<PsiPoint, double> value)
    {
        var (i, j) = (Index(from), Index(to));
        var xs = Of(role).Select(p => value(p.Points[j]) - value(p.Points[i])).Where(double.IsFinite).ToList();
        return xs.Count > 0 ? Statistics.Summarize(xs) : null;
    }

    /// <summary>This run minus <paramref name="other"/>, paired by concept over the prompts of the role both scored
    /// (e.g. CCS of AP − CCS of ESD on the same five erased classes), with a bootstrap interval over those prompts.</summary>
    public Summary? PairedDifference(AuditedRun other, PromptRole role, Func<PromptAudit, double?> value)
    {
        var theirs = other.Of(role).ToDictionary(p => p.Concept, value);
        var xs = Of(role).Where(p => value(p) is not null && theirs.GetValueOrDefault(p.Concept) is not null)
            .Select(p => value(p)!.Value - theirs[p.Concept]!.Value).ToList();
        return xs.Count > 0 ? Statistics.Summarize(xs) : null;
    }

    int Index(double psi)
    {
        var i = Array.IndexOf(Options.attack.psi, psi);
        if (i < 0) throw new ArgumentException($"ψ = {psi} is not a point of this audit's grid ({string.Join(", ", Options.attack.psi)})");
        return i;
    }
}

public static class AuditResults
{
    public const string File = "audit.json";

    /// <summary>How audit files are written: indented, enums by name, NaN allowed (an unscored point).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The audit in one folder (it must hold audit.json, i.e. the audit completed).</summary>
    public static AuditedRun Load(string folder)
    {
        var path = Path.Combine(folder, File);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{folder} holds no completed audit (no {File})", path);
        try
        {
            var root = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
            var audited = root["audited"]!.AsObject();
            var prompts = root["prompts"].Deserialize<List<PromptAudit>>(Json)!;
            var options = root["options"].Deserialize<ConcealmentAuditOptions>(Json)!;
            return new AuditedRun(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), (string)audited["kind"]!,
                (string?)audited["method"], (string?)audited["parameters"], prompts, options);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not an audit file ({e.Message})", e);
        }
    }

    /// <summary>Every completed audit directly under <paramref name="folder"/> (one sub-folder per run), in name order.</summary>
    public static IReadOnlyList<AuditedRun> LoadAll(string folder) =>
        Directory.EnumerateDirectories(folder).Where(d => System.IO.File.Exists(Path.Combine(d, File))).Order(StringComparer.Ordinal).Select(Load).ToList();
}
