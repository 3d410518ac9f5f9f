// AuditFiles.cs — what `workbook audit` writes into an audit folder, and what --resume reads back: the manifest
// (atomically rewritten: Running → Completed/Cancelled), one JSON file per finished prompt, the ψ × seed grid of
// attack images, the per-ψ and per-prompt CSV tables, audit.json with the aggregate scores and their bootstrap
// intervals over prompts, and report.html.
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConceptErasure.Audit;
using ConceptErasure.Data;
using ConceptErasure.Engine;
using ConceptErasure.Erasure;
using ConceptErasure.Evaluation;
using TorchSharp;

namespace ConceptErasure.Cli.Commands;

internal static class AuditFiles
{
    public const string ManifestFile = "manifest.json", PromptsFolder = "prompts", GridsFolder = "grids";

    static readonly JsonSerializerOptions Json = AuditResults.Json;   // the readers' options (notebooks load these files)

    static string Slug(string concept) => CommandSupport.Slug(concept);

    // ---- manifest ----------------------------------------------------------------------------------------------
    public static JsonObject Manifest(AuditCommand.Subject s, ConcealmentAuditOptions o, SortedDictionary<string, string> weights,
        SortedDictionary<string, string> judge, IReadOnlyList<(string concept, PromptRole role)> prompts)
    {
        var assembly = typeof(ConcealmentAudit).Assembly;
        return new JsonObject
        {
            ["status"] = "Running",
            ["audited"] = s.Provenance.DeepClone(),
            ["options"] = JsonSerializer.SerializeToNode(o, Json),
            ["prompts"] = new JsonArray(prompts.Select(p => (JsonNode)new JsonObject { ["concept"] = p.concept, ["role"] = p.role.ToString(), ["prompt"] = o.Prompt(p.concept) }).ToArray()),
            ["original_weights"] = new JsonObject(weights.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["judge_weights"] = new JsonObject(judge.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["started_utc"] = DateTime.UtcNow.ToString("O"),
            ["threads"] = torch.get_num_threads(),
            ["versions"] = new JsonObject
            {
                ["concept_erasure"] = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
                ["torchsharp"] = TorchRuntime.Versions["torchsharp"], ["libtorch"] = TorchRuntime.Versions["libtorch"],
                ["dotnet"] = Environment.Version.ToString(), ["os"] = RuntimeInformation.OSDescription,
            },
        };
    }

    public static void Finish(JsonObject manifest, double seconds)
    {
        var peak = ErasureResult.PeakResidentBytes();
        manifest["wall_seconds"] = Math.Round(seconds, 1);   // of this invocation (a resumed audit counts only its own part)
        manifest["peak_rss_mib"] = peak is { } b ? Math.Round(b / 1048576.0, 1) : null;
    }

    public static void WriteManifest(string dir, JsonObject manifest) =>
        AtomicFile.WriteAllText(Path.Combine(dir, ManifestFile), manifest.ToJsonString(Json) + "\n");

    /// <summary>--resume: a folder holding another audit (other run, other options) is refused.</summary>
    public static void CheckResumable(string dir, AuditCommand.Subject s, ConcealmentAuditOptions o)
    {
        var path = Path.Combine(dir, ManifestFile);
        if (!File.Exists(path)) return;   // nothing there yet: a fresh start
        var m = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: empty");
        if (!JsonNode.DeepEquals(m["options"], JsonSerializer.SerializeToNode(o, Json)))
            throw new ArgumentException($"--resume: {dir} was audited with other options (see its manifest.json); resume with the same ones");
        if (!JsonNode.DeepEquals(m["audited"]?["weights"], s.Provenance["weights"]) || (string?)m["audited"]?["kind"] != s.Kind)
            throw new ArgumentException($"--resume: {dir} audits another run than {s.Folder}");
    }

    // ---- one prompt --------------------------------------------------------------------------------------------
    public static void SavePrompt(string dir, PromptAudit a)
    {
        Directory.CreateDirectory(Path.Combine(dir, PromptsFolder));
        AtomicFile.WriteAllText(Path.Combine(dir, PromptsFolder, Slug(a.Concept) + ".json"), JsonSerializer.Serialize(a, Json) + "\n");
    }

    public static PromptAudit? LoadPrompt(string dir, string concept)
    {
        var path = Path.Combine(dir, PromptsFolder, Slug(concept) + ".json");
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<PromptAudit>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message} (delete it to audit that prompt again)"); }
    }

    public static void SaveGrid(string dir, string concept, IReadOnlyList<(double psi, IReadOnlyList<RgbaImage?> images)> rows, ConcealmentAuditOptions o)
    {
        Directory.CreateDirectory(Path.Combine(dir, GridsFolder));
        var labels = rows.Select(r => FormattableString.Invariant($"psi {r.psi} k {PartialDiffusion.HandOverStep(r.psi, o.attack.sampling.steps)}")).ToList();
        var columns = Enumerable.Range(0, o.attack_images).Select(i => $"seed {o.attack.seed + (ulong)i}").ToList();
        RasterGrid.Save(RasterGrid.Compose(rows.Select(r => r.images).ToList(), labels, columns, new RasterGridOptions(Scale: 2)),
            Path.Combine(dir, GridsFolder, Slug(concept) + ".png"));
    }

    // ---- the results -------------------------------------------------------------------------------------------
    public static void WriteResults(string dir, AuditCommand.Subject s, IReadOnlyList<PromptAudit> results, ConcealmentAuditOptions o)
    {
        static string F(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);
        static string N(double? v) => v is { } x ? F(x) : "";
        var scores = new StringBuilder("concept,role,psi,effective_psi,hand_over_step,scored,s_original,s_erased,p_original,kid,judge_top1,judge_top5\n");
        foreach (var a in results)
            foreach (var p in a.Points)
                scores.Append($"{Csv.Quote(a.Concept)},{a.Role},{F(p.Psi)},{F(p.EffectivePsi)},{p.HandOverStep},{(p.Scored ? 1 : 0)},{F(p.SOriginal)},{F(p.SErased)},{F(p.POriginal)},{F(p.Kid)},{F(p.JudgeTop1)},{F(p.JudgeTop5)}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "scores.csv"), scores.ToString());
        var summary = new StringBuilder("concept,role,train_images,held_out_images,held_out_accuracy,separates,crs,ccs,reference_top1_original,reference_top1_erased,seconds\n");
        foreach (var a in results)
            summary.Append($"{Csv.Quote(a.Concept)},{a.Role},{a.Fit.TrainCount},{a.Fit.HeldOutCount},{F(a.Fit.HeldOutAccuracy)},{(a.Fit.Separates ? 1 : 0)},{N(a.Crs)},{N(a.Ccs)},{F(a.ReferenceJudgeTop1Original)},{F(a.ReferenceJudgeTop1Erased)},{F(Math.Round(a.Seconds, 1))}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.csv"), summary.ToString());
        var aggregate = new JsonObject();
        foreach (var role in new[] { PromptRole.Forget, PromptRole.Retain })
        {
            var scored = results.Where(a => a.Role == role && a.Crs is not null).ToList();
            aggregate[role.ToString().ToLowerInvariant()] = new JsonObject
            {
                ["prompts"] = results.Count(a => a.Role == role), ["scored"] = scored.Count,
                ["crs"] = scored.Count > 0 ? JsonSerializer.SerializeToNode(Statistics.Summarize(scored.Select(a => a.Crs!.Value).ToList()), Json) : null,
                ["ccs"] = scored.Count > 0 ? JsonSerializer.SerializeToNode(Statistics.Summarize(scored.Select(a => a.Ccs!.Value).ToList()), Json) : null,
            };
        }
        var audit = new JsonObject
        {
            ["audited"] = s.Provenance.DeepClone(), ["options"] = JsonSerializer.SerializeToNode(o, Json),
            ["aggregate"] = aggregate, ["aggregate_note"] = "mean and 95 % percentile-bootstrap interval over the scored prompts of each role",
            ["prompts"] = JsonSerializer.SerializeToNode(results, Json),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, AuditResults.File), audit.ToJsonString(Json) + "\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "report.html"), Report(s, results, o));
    }

    public static string Headline(IReadOnlyList<PromptAudit> results)
    {
        string Part(PromptRole role)
        {
            var scored = results.Where(a => a.Role == role && a.Ccs is not null).ToList();
            var all = results.Count(a => a.Role == role);
            return scored.Count == 0 ? $"{role.ToString().ToLowerInvariant()}: no prompt scored (of {all})"
                : FormattableString.Invariant($"{role.ToString().ToLowerInvariant()} CCS {scored.Average(a => a.Ccs!.Value):F3}, CRS {scored.Average(a => a.Crs!.Value):F3} ({scored.Count} of {all} prompts scored)");
        }
        return $"{Part(PromptRole.Forget)}; {Part(PromptRole.Retain)}";
    }

    static string Report(AuditCommand.Subject s, IReadOnlyList<PromptAudit> results, ConcealmentAuditOptions o)
    {
        static string E(string t) => WebUtility.HtmlEncode(t);
        static string F(double? v, string f = "F3") => v is { } x && !double.IsNaN(x) ? x.ToString(f, CultureInfo.InvariantCulture) : "–";
        var head = string.Concat(o.attack.psi.Select(p => $"<th>ψ {F(p, "G3")}</th>"));
        var sb = new StringBuilder();
        sb.Append($"""
            <!doctype html><html><head><meta charset="utf-8"><title>audit {E(s.Name)}</title>
            <style>body{"{"}font-family:sans-serif;max-width:72em;margin:2em auto{"}"} td,th{"{"}padding:2px 8px;text-align:right{"}"} td:first-child{"{"}text-align:left{"}"} img{"{"}image-rendering:pixelated{"}"}</style></head><body>
            <h1>Unlearning or concealment? {E(s.Name)}</h1>
            <p>{E(s.Kind)} <code>{E(s.Folder)}</code>. Partial-diffusion attack: the original model takes the first round(ψ·{o.attack.sampling.steps}) DDIM steps,
            the audited one finishes (guidance {F(o.attack.sampling.guidance_scale, "G3")}); {o.attack_images} attack images per ψ (seeds from {o.attack.seed}),
            reference sets of {o.reference_images} images (seeds from {o.reference_seed}). CRS and CCS average the ψ points strictly inside (0, 1).</p>
            <h2>Per prompt</h2><table><tr><th>concept</th><th>role</th><th>classifier held-out accuracy</th><th>CRS</th><th>CCS</th><th>judge top-1, original</th><th>judge top-1, audited</th></tr>
            """);
        foreach (var a in results)
            sb.Append($"<tr><td>{E(a.Concept)}</td><td>{a.Role}</td><td>{F(a.Fit.HeldOutAccuracy, "P0")}{(a.Fit.Separates ? "" : " (below the bar)")}</td><td>{F(a.Crs)}</td><td>{F(a.Ccs)}</td><td>{F(a.ReferenceJudgeTop1Original, "P0")}</td><td>{F(a.ReferenceJudgeTop1Erased, "P0")}</td></tr>\n");
        sb.Append($"</table><h2>P(original | λ_P(ψ))</h2><table><tr><th>concept</th>{head}</tr>\n");
        foreach (var a in results) sb.Append($"<tr><td>{E(a.Concept)}</td>{string.Concat(a.Points.Select(p => $"<td>{F(p.POriginal)}</td>"))}</tr>\n");
        sb.Append($"</table><h2>Judge top-1 for the prompt's concept</h2><table><tr><th>concept</th>{head}</tr>\n");
        foreach (var a in results) sb.Append($"<tr><td>{E(a.Concept)}</td>{string.Concat(a.Points.Select(p => $"<td>{F(p.JudgeTop1, "P0")}</td>"))}</tr>\n");
        sb.Append("</table><h2>Attack images (rows ψ, columns seeds)</h2>\n");
        foreach (var a in results) sb.Append($"<h3>{E(a.Concept)} ({a.Role})</h3><p><img src=\"{GridsFolder}/{Slug(a.Concept)}.png\" alt=\"{E(a.Concept)}\"></p>\n");
        sb.Append("<p>Files: <code>scores.csv</code> (per ψ), <code>summary.csv</code> (per prompt), <code>audit.json</code>, <code>manifest.json</code>.</p></body></html>\n");
        return sb.ToString();
    }
}
