// The protocol between `workbook notebooks run` (the parent) and workbook-kernel (the child that hosts the
// .NET Interactive C# kernel), shared by both as source: one JSON object per line, UTF-8, over a named pipe
// (never stdout, where native code and stray threads may write). The parent sends "run" (a cell's number and
// code) and "quit"; the child answers with "ready" once the kernel exists, then per cell the outputs in the
// order the kernel produced them ("stream", "display", "update", "result", "error"), "note" lines for the
// parent's progress log, and "done". A pipe that ends before "done" means the child died while the cell ran.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConceptErasure.Notebooks;

/// <summary>Message and field names of the kernel protocol.</summary>
public static class KernelProtocol
{
    /// <summary>The child's command-line option naming the pipe to connect to.</summary>
    public const string PipeOption = "--pipe";

    // Parent → child.
    public const string Run = "run";          // { op, cell: int, code: string }
    public const string Quit = "quit";        // { op }

    // Child → parent.
    public const string Ready = "ready";      // { ev, engine: string }
    public const string Stream = "stream";    // { ev, name: "stdout"|"stderr", text }
    public const string Display = "display";  // { ev, id: string?, data: { mime: text } }
    public const string Update = "update";    // { ev, id: string, data }: replaces the display with that id
    public const string Result = "result";    // { ev, data }: the cell's value
    public const string Error = "error";      // { ev, ename, evalue, traceback: [string] }
    public const string Note = "note";        // { ev, text }: for the parent's progress log, not the notebook
    public const string Done = "done";        // { ev, ok: bool }

    /// <summary>One message as a single line of JSON (no trailing newline).</summary>
    public static string Serialize(JsonObject message) => message.ToJsonString(Options);

    /// <summary>Parses a line; throws FormatException when it is not a JSON object.</summary>
    public static JsonObject Parse(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new FormatException("A kernel message is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"A kernel message is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The text encoding of the pipe: UTF-8 without a byte-order mark.</summary>
    public static readonly Encoding Encoding = new UTF8Encoding(false);

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
}
