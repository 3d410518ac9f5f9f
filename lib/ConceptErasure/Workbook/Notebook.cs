// A small model of a Jupyter notebook (nbformat 4.5) as Polyglot Notebooks saves it: cells with ids,
// sources as text, outputs (streams, display data, execute results, errors) and free-form metadata.
// Reading accepts any nbformat 4 file; writing is deterministic (see JupyterJson) so that executing an
// unchanged notebook twice produces the same bytes. Saving is atomic: a temporary file is renamed over
// the target. Conventions for Polyglot metadata and cell ids live in NotebookConventions.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ConceptErasure.Workbook;

/// <summary>nbformat's multi-line strings: a list of lines, each but the last keeping its '\n'.</summary>
internal static class NotebookText
{
    public static JsonArray ToLines(string text)
    {
        var arr = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            arr.Add(text[start..end]);
            start = end;
        }
        return arr;
    }

    public static string FromLines(JsonArray lines)
    {
        var sb = new StringBuilder();
        foreach (var line in lines) sb.Append(line?.GetValue<string>());
        return sb.ToString();
    }

    public static string FromNode(JsonNode? node) => node switch
    {
        null => "",
        JsonArray a => FromLines(a),
        _ => node.GetValue<string>(),
    };
}

/// <summary>Writes a file by writing a temporary sibling and renaming it over the target.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp");
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}

/// <summary>The kind of a notebook cell.</summary>
public enum CellKind
{
    Markdown,
    Code,
    Raw,
}

/// <summary>One output of a code cell, as nbformat stores it.</summary>
public abstract record CellOutput;

/// <summary>Text written to stdout or stderr while the cell ran.</summary>
/// <param name="Name">"stdout" or "stderr".</param>
public sealed record StreamOutput(string Name, string Text) : CellOutput;

/// <summary>A value shown with display(x): one rendering per MIME type.</summary>
public sealed record DisplayDataOutput(MimeBundle Data) : CellOutput;

/// <summary>The value of a cell's trailing expression.</summary>
public sealed record ExecuteResultOutput(int ExecutionCount, MimeBundle Data) : CellOutput;

/// <summary>An exception that stopped the cell.</summary>
/// <param name="EName">The exception's type name.</param>
/// <param name="EValue">The exception's message.</param>
/// <param name="Traceback">Lines shown under the error, without absolute paths.</param>
public sealed record ErrorOutput(string EName, string EValue, IReadOnlyList<string> Traceback) : CellOutput;

/// <summary>A value rendered for several MIME types (e.g. "text/plain", "image/svg+xml"), kept in key order.</summary>
public sealed class MimeBundle
{
    private readonly SortedDictionary<string, string> _items = new(StringComparer.Ordinal);

    /// <summary>MIME types whose JSON form is an object rather than text.</summary>
    public static bool IsJsonMimeType(string mimeType) =>
        mimeType == "application/json" || mimeType.EndsWith("+json", StringComparison.Ordinal);

    /// <summary>MIME types stored as a list of lines, as nbformat does for text.</summary>
    public static bool IsMultilineMimeType(string mimeType) =>
        mimeType.StartsWith("text/", StringComparison.Ordinal) || mimeType == "image/svg+xml" ||
        mimeType == "application/javascript";

    public IEnumerable<string> MimeTypes => _items.Keys;

    public int Count => _items.Count;

    public string this[string mimeType]
    {
        get => _items.TryGetValue(mimeType, out var v) ? v : throw new KeyNotFoundException($"The bundle has no '{mimeType}' rendering.");
        set => _items[mimeType] = value;
    }

    public bool TryGet(string mimeType, out string value) => _items.TryGetValue(mimeType, out value!);

    public bool Contains(string mimeType) => _items.ContainsKey(mimeType);

    internal JsonObject ToJson()
    {
        var obj = new JsonObject();
        foreach (var (mime, text) in _items)
        {
            if (IsJsonMimeType(mime)) obj[mime] = JupyterJson.Parse(text);
            else if (IsMultilineMimeType(mime)) obj[mime] = NotebookText.ToLines(text);
            else obj[mime] = text;
        }
        return obj;
    }

    internal static MimeBundle FromJson(JsonObject? obj)
    {
        var bundle = new MimeBundle();
        if (obj is null) return bundle;
        foreach (var (mime, node) in obj)
        {
            bundle[mime] = node switch
            {
                JsonArray lines => NotebookText.FromLines(lines),
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                null => "null",
                _ => node.ToJsonString(),
            };
        }
        return bundle;
    }
}

/// <summary>One cell: markdown, code or raw text, with its outputs when it is code.</summary>
public sealed class NotebookCell
{
    public NotebookCell(CellKind kind, string source, string? id = null)
    {
        Kind = kind;
        Source = source;
        Id = id;
    }

    public CellKind Kind { get; }

    /// <summary>nbformat 4.5 cell id (1-64 characters of [A-Za-z0-9-_]); assigned on save when missing.</summary>
    public string? Id { get; set; }

    public string Source { get; set; }

    public JsonObject Metadata { get; set; } = new();

    /// <summary>For code cells: the run's sequence number, or null when not run.</summary>
    public int? ExecutionCount { get; set; }

    public List<CellOutput> Outputs { get; } = new();

    /// <summary>Markdown attachments, kept as they were read.</summary>
    public JsonObject? Attachments { get; set; }
}

/// <summary>An nbformat 4 notebook.</summary>
public sealed class Notebook
{
    public const int FormatMajor = 4;
    public const int FormatMinor = 5;

    public List<NotebookCell> Cells { get; } = new();

    public JsonObject Metadata { get; set; } = new();

    /// <summary>Reads a notebook file (nbformat 4.x).</summary>
    public static Notebook Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No notebook at '{path}'.", path);
        try
        {
            return Parse(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (FormatException e)
        {
            throw new FormatException($"'{path}' is not a readable notebook: {e.Message}", e);
        }
    }

    /// <summary>Parses notebook JSON text.</summary>
    public static Notebook Parse(string json)
    {
        if (JupyterJson.Parse(json) is not JsonObject root) throw new FormatException("The top level is not a JSON object.");
        var major = root["nbformat"]?.GetValue<int>() ?? 0;
        if (major != FormatMajor) throw new FormatException($"nbformat {major} is not supported; only nbformat 4 is.");
        var nb = new Notebook { Metadata = root["metadata"] as JsonObject ?? new JsonObject() };
        nb.Metadata = (JsonObject)nb.Metadata.DeepClone();
        if (root["cells"] is not JsonArray cells) throw new FormatException("The notebook has no 'cells' list.");
        foreach (var node in cells)
        {
            if (node is not JsonObject c) throw new FormatException("A cell is not a JSON object.");
            nb.Cells.Add(ReadCell(c));
        }
        return nb;
    }

    /// <summary>The notebook as nbformat 4.5 JSON text (sorted keys, one-space indent, trailing newline).</summary>
    public string ToJson()
    {
        NotebookConventions.AssignMissingIds(this);
        var cells = new JsonArray();
        foreach (var cell in Cells) cells.Add(WriteCell(cell));
        var root = new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = Metadata.DeepClone(),
            ["nbformat"] = FormatMajor,
            ["nbformat_minor"] = FormatMinor,
        };
        return JupyterJson.Write(root);
    }

    /// <summary>Writes the notebook atomically (temporary file, then rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    private static NotebookCell ReadCell(JsonObject c)
    {
        var type = c["cell_type"]?.GetValue<string>();
        var kind = type switch
        {
            "markdown" => CellKind.Markdown,
            "code" => CellKind.Code,
            "raw" => CellKind.Raw,
            _ => throw new FormatException($"Unknown cell_type '{type}'."),
        };
        var cell = new NotebookCell(kind, NotebookText.FromNode(c["source"]), c["id"]?.GetValue<string>())
        {
            Metadata = (JsonObject)(c["metadata"] as JsonObject ?? new JsonObject()).DeepClone(),
            Attachments = (c["attachments"] as JsonObject)?.DeepClone() as JsonObject,
        };
        if (kind == CellKind.Code)
        {
            cell.ExecutionCount = c["execution_count"] is JsonValue n ? n.GetValue<int>() : null;
            if (c["outputs"] is JsonArray outputs)
                foreach (var o in outputs) cell.Outputs.Add(ReadOutput(o as JsonObject ?? throw new FormatException("An output is not a JSON object.")));
        }
        return cell;
    }

    private static CellOutput ReadOutput(JsonObject o)
    {
        var type = o["output_type"]?.GetValue<string>();
        return type switch
        {
            "stream" => new StreamOutput(o["name"]?.GetValue<string>() ?? "stdout", NotebookText.FromNode(o["text"])),
            "display_data" => new DisplayDataOutput(MimeBundle.FromJson(o["data"] as JsonObject)),
            "execute_result" => new ExecuteResultOutput(o["execution_count"]?.GetValue<int>() ?? 0, MimeBundle.FromJson(o["data"] as JsonObject)),
            "error" => new ErrorOutput(
                o["ename"]?.GetValue<string>() ?? "",
                o["evalue"]?.GetValue<string>() ?? "",
                (o["traceback"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "").ToList() ?? new List<string>()),
            _ => throw new FormatException($"Unknown output_type '{type}'."),
        };
    }

    private static JsonObject WriteCell(NotebookCell cell)
    {
        var obj = new JsonObject
        {
            ["cell_type"] = cell.Kind switch { CellKind.Markdown => "markdown", CellKind.Code => "code", _ => "raw" },
            ["id"] = cell.Id,
            ["metadata"] = cell.Metadata.DeepClone(),
            ["source"] = NotebookText.ToLines(cell.Source),
        };
        if (cell.Kind != CellKind.Code && cell.Attachments is not null) obj["attachments"] = cell.Attachments.DeepClone();
        if (cell.Kind == CellKind.Code)
        {
            obj["execution_count"] = cell.ExecutionCount;
            var outputs = new JsonArray();
            foreach (var output in cell.Outputs) outputs.Add(WriteOutput(output));
            obj["outputs"] = outputs;
        }
        return obj;
    }

    private static JsonObject WriteOutput(CellOutput output) => output switch
    {
        StreamOutput s => new JsonObject { ["output_type"] = "stream", ["name"] = s.Name, ["text"] = NotebookText.ToLines(s.Text) },
        DisplayDataOutput d => new JsonObject { ["output_type"] = "display_data", ["data"] = d.Data.ToJson(), ["metadata"] = new JsonObject() },
        ExecuteResultOutput r => new JsonObject
        {
            ["output_type"] = "execute_result",
            ["execution_count"] = r.ExecutionCount,
            ["data"] = r.Data.ToJson(),
            ["metadata"] = new JsonObject(),
        },
        ErrorOutput e => new JsonObject
        {
            ["output_type"] = "error",
            ["ename"] = e.EName,
            ["evalue"] = e.EValue,
            ["traceback"] = new JsonArray(e.Traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        },
        _ => throw new ArgumentException($"Unknown output type {output.GetType().Name}."),
    };
}

/// <summary>The metadata and ids that make a notebook open as C# in Polyglot Notebooks.</summary>
public static class NotebookConventions
{
    /// <summary>The C# language version named in language_info.</summary>
    public const string CSharpVersion = "14.0";

    /// <summary>Adds the kernelspec, language_info and polyglot_notebook entries where they are missing.</summary>
    public static void ApplyPolyglotMetadata(Notebook notebook)
    {
        var m = notebook.Metadata;
        m["kernelspec"] ??= new JsonObject { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" };
        m["language_info"] ??= new JsonObject
        {
            ["name"] = "C#",
            ["file_extension"] = ".cs",
            ["mimetype"] = "text/x-csharp",
            ["pygments_lexer"] = "csharp",
            ["version"] = CSharpVersion,
        };
        m["polyglot_notebook"] ??= new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = "csharp",
                ["items"] = new JsonArray(new JsonObject { ["name"] = "csharp", ["aliases"] = new JsonArray() }),
            },
        };
        foreach (var cell in notebook.Cells.Where(c => c.Kind == CellKind.Code))
        {
            cell.Metadata["polyglot_notebook"] ??= new JsonObject { ["kernelName"] = "csharp" };
            cell.Metadata["dotnet_interactive"] ??= new JsonObject { ["language"] = "csharp" };
        }
        AssignMissingIds(notebook);
    }

    /// <summary>
    /// Gives every cell without an id one derived from its kind and source (8 hex digits of SHA-256), so
    /// regenerating a notebook from the same cells yields the same ids; duplicates get a numeric suffix.
    /// </summary>
    public static void AssignMissingIds(Notebook notebook)
    {
        var used = new HashSet<string>(notebook.Cells.Where(c => c.Id is not null).Select(c => c.Id!), StringComparer.Ordinal);
        foreach (var cell in notebook.Cells.Where(c => c.Id is null))
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(cell.Kind + "\n" + cell.Source));
            var baseId = Convert.ToHexStringLower(hash, 0, 4);
            var id = baseId;
            for (int n = 2; used.Contains(id); n++) id = baseId + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            used.Add(id);
            cell.Id = id;
        }
    }
}
