// The kernel a notebook runs in, set up the way Polyglot Notebooks sets up its C# kernel: a CompositeKernel
// with a CSharpKernel that has the NuGet directives (#r "nuget: …", #i), the kernel helpers (display(x) via
// `using static Microsoft.DotNet.Interactive.Kernel`), #!who/#!whos, value sharing and #!import, HTML as the
// default MIME type, and formatter extensions of referenced packages (interactive-extensions/dotnet/*.dll,
// see ExtensionLoader). Each cell is one SubmitCode; while it runs, the kernel's events become protocol
// messages: standard output and error → "stream", DisplayedValueProduced → "display", DisplayedValueUpdated
// → "update" (by value id), ReturnValueProduced → "result", ErrorProduced and the cell's CommandFailed →
// "error" (with a traceback free of file paths, see Traceback).
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace ConceptErasure.Notebooks;

/// <summary>Sends protocol messages; safe to call from any thread.</summary>
public interface IMessageSink
{
    void Send(JsonObject message);
}

/// <summary>One notebook's kernel; see the file header.</summary>
public sealed class KernelSession : IDisposable
{
    /// <summary>DataFrames with more rows than this render as an empty, script-paged table for static readers.</summary>
    public const int StaticTableRowLimit = 25;

    private readonly CompositeKernel _kernel;
    private readonly IMessageSink _sink;
    private readonly IDisposable _subscription;
    private int _cell;
    private volatile bool _running;

    public KernelSession(IMessageSink sink)
    {
        _sink = sink;
        Formatter.DefaultMimeType = HtmlFormatter.MimeType;
        Formatter.SetPreferredMimeTypesFor(typeof(string), PlainTextFormatter.MimeType);

        var csharp = new CSharpKernel()
            .UseNugetDirective((kernel, references) =>
            {
                kernel.AddAssemblyReferences(references.SelectMany(r => r.AssemblyPaths));
                return Task.CompletedTask;
            })
            .UseKernelHelpers()
            .UseWho()
            .UseValueSharing();
        _kernel = new CompositeKernel { csharp };
        _kernel.DefaultKernelName = csharp.Name;
        _kernel.UseImportMagicCommand();
        ExtensionLoader.Attach(_kernel, text => Note(text));
        _subscription = _kernel.KernelEvents.Subscribe(OnEvent);
    }

    /// <summary>The engine's version, e.g. "1.0.0-beta.26120.1".</summary>
    public static string EngineVersion =>
        typeof(Kernel).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>Runs one cell (1-based <paramref name="cell"/> in notebook order); returns whether it succeeded.</summary>
    public async Task<bool> RunCellAsync(int cell, string code)
    {
        _cell = cell;
        _running = true;
        var submit = new SubmitCode(code);
        KernelCommandResult result;
        try
        {
            result = await _kernel.SendAsync(submit);
        }
        finally
        {
            _running = false;
        }
        if (result.Events.OfType<CommandFailed>().FirstOrDefault(f => f.Command == submit) is not { } failed)
            failed = result.Events.OfType<CommandFailed>().LastOrDefault();
        if (failed is null) return true;
        _sink.Send(ErrorMessage(failed.Exception, failed.Message, cell));
        return false;
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _kernel.Dispose();
    }

    private void OnEvent(KernelEvent e)
    {
        if (!_running) return;
        switch (e)
        {
            case StandardOutputValueProduced o:
                Stream("stdout", o);
                break;
            case StandardErrorValueProduced o:
                Stream("stderr", o);
                break;
            case DisplayedValueUpdated u:
                _sink.Send(new JsonObject { ["ev"] = KernelProtocol.Update, ["id"] = u.ValueId, ["data"] = Bundle(u.FormattedValues) });
                break;
            case DisplayedValueProduced d:
                WarnAboutLargeTables(d.Value);
                _sink.Send(new JsonObject { ["ev"] = KernelProtocol.Display, ["id"] = d.ValueId, ["data"] = Bundle(d.FormattedValues) });
                break;
            case ReturnValueProduced r:
                WarnAboutLargeTables(r.Value);
                _sink.Send(new JsonObject { ["ev"] = KernelProtocol.Result, ["data"] = Bundle(r.FormattedValues) });
                break;
            case ErrorProduced err:
                _sink.Send(new JsonObject
                {
                    ["ev"] = KernelProtocol.Error, ["ename"] = "Error", ["evalue"] = err.Message, ["traceback"] = new JsonArray(JsonValue.Create(err.Message)),
                });
                break;
        }
    }

    private void Stream(string name, DisplayEvent e)
    {
        var text = e.FormattedValues.FirstOrDefault(v => v.MimeType == PlainTextFormatter.MimeType)?.Value ?? "";
        if (text.Length > 0) _sink.Send(new JsonObject { ["ev"] = KernelProtocol.Stream, ["name"] = name, ["text"] = text.Replace("\r\n", "\n") });
    }

    private static JsonObject Bundle(IEnumerable<FormattedValue> values)
    {
        var data = new JsonObject();
        foreach (var v in values.Where(v => !v.SuppressDisplay)) data[v.MimeType] = v.Value;
        return data;
    }

    private void Note(string text) => _sink.Send(new JsonObject { ["ev"] = KernelProtocol.Note, ["text"] = text });

    /// <summary>A DataFrame above the static limit pages its rows in by script: say so on the progress log.</summary>
    private void WarnAboutLargeTables(object? value)
    {
        if (value?.GetType().FullName != "Microsoft.Data.Analysis.DataFrame") return;
        if (value.GetType().GetProperty("Rows")?.GetValue(value) is not { } rows) return;
        if (rows.GetType().GetProperty("Count")?.GetValue(rows) is long count && count > StaticTableRowLimit)
            Note($"warning: cell {_cell} shows a DataFrame of {count} rows; above {StaticTableRowLimit} its HTML pages rows in by script " +
                 $"and GitHub or nbconvert show an empty table: show .Head({StaticTableRowLimit}) instead.");
    }

    internal static JsonObject ErrorMessage(Exception? exception, string? message, int cell)
    {
        string ename, evalue;
        List<string> traceback;
        if (exception is CodeSubmissionCompilationErrorException)
        {
            var lines = (message ?? exception.Message).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            ename = "CompilationError";
            evalue = lines.Count == 0 ? "" : lines[0] + (lines.Count > 1 ? $" (and {lines.Count - 1} more)" : "");
            traceback = new[] { $"Cell {cell} did not compile:" }.Concat(lines).ToList();
        }
        else if (exception is not null)
        {
            ename = exception.GetType().FullName ?? exception.GetType().Name;
            evalue = exception.Message;
            traceback = Traceback.Lines(exception, cell);
        }
        else
        {
            ename = "KernelError";
            evalue = (message ?? "the kernel reported a failure without a message").Trim();
            traceback = new List<string> { $"Cell {cell} failed: {evalue}" };
        }
        return new JsonObject
        {
            ["ev"] = KernelProtocol.Error,
            ["ename"] = ename,
            ["evalue"] = evalue,
            ["traceback"] = new JsonArray(traceback.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
        };
    }
}
