// Executes a notebook headlessly on the real engine: one workbook-kernel process per notebook (KernelProcess,
// the .NET Interactive C# kernel that Polyglot Notebooks runs), code cells sent in order, state carrying from
// cell to cell, the notebook's folder as working directory. The kernel's outputs become the cells' outputs:
// stream text (consecutive writes to one stream merged), display_data (a later update of the same value id
// replaces it, as in VS Code), execute_result and error. The first failing cell — an exception, a compile
// error, a timeout, the kernel process ending (Environment.Exit), or Ctrl-C/SIGTERM — gets an error output
// naming it ("Cell 7 …"), later cells are left unrun, and the notebook is still written (atomically, with the
// project's deterministic writer: outputs carry no timestamps, paths or ids, so re-running an unchanged
// notebook reproduces its bytes). Progress (kernel start, each cell, "still running") goes to stderr only.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConceptErasure.Notebooks;
using ConceptErasure.Workbook;

namespace ConceptErasure.Cli.Notebooks;

/// <summary>How a notebook is run.</summary>
/// <param name="Fast">Sets WORKBOOK_FAST=1 (Run.Fast) so notebooks shrink their iterations (default false: "0").</param>
/// <param name="Progress">Where progress lines go (default: the process's stderr).</param>
/// <param name="ProgressInterval">How often a long-running cell reports that it is still running (default 10 s).</param>
/// <param name="CellTimeout">How long one cell may run before the notebook fails (default 30 min; null: no limit).</param>
public sealed record NotebookRunOptions(bool Fast = false, TextWriter? Progress = null, TimeSpan? ProgressInterval = null, TimeSpan? CellTimeout = null)
{
    public static readonly TimeSpan DefaultCellTimeout = TimeSpan.FromMinutes(30);

    /// <summary>No per-cell limit (rather than the default).</summary>
    public bool NoCellTimeout { get; init; }
}

/// <summary>What happened when a notebook ran.</summary>
/// <param name="FailedCell">1-based number (in notebook order, markdown counted) of the cell that failed, or null.</param>
/// <param name="Error">"ExceptionType: message" of the failure, or null.</param>
/// <param name="CodeCellsRun">How many code cells executed (including the failing one).</param>
/// <param name="Interrupted">The run was stopped by Ctrl-C or SIGTERM (the failed cell is where it stopped).</param>
public sealed record NotebookRunResult(Notebook Notebook, int? FailedCell, string? Error, int CodeCellsRun, bool Interrupted = false)
{
    public bool Succeeded => FailedCell is null;
}

/// <summary>Runs notebooks; see the file header for the behaviour.</summary>
public sealed class NotebookRunner
{
    private readonly NotebookRunOptions _options;

    public NotebookRunner(NotebookRunOptions? options = null) => _options = options ?? new NotebookRunOptions();

    /// <summary>Loads, runs and saves a notebook file (in place, or to <paramref name="outputPath"/>).</summary>
    public async Task<NotebookRunResult> RunFileAsync(string path, string? outputPath = null, CancellationToken ct = default)
    {
        var notebook = Notebook.Load(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var result = await RunAsync(notebook, dir, Path.GetFileName(path), ct);
        notebook.Save(outputPath ?? path);
        return result;
    }

    /// <summary>Runs the notebook's code cells in order, replacing their outputs; <paramref name="directory"/> is the kernel's working directory.</summary>
    public async Task<NotebookRunResult> RunAsync(Notebook notebook, string directory, string name, CancellationToken ct = default)
    {
        NotebookConventions.ApplyPolyglotMetadata(notebook);
        var progress = _options.Progress ?? Console.Error;
        var interval = _options.ProgressInterval ?? TimeSpan.FromSeconds(10);
        var timeout = _options.NoCellTimeout ? (TimeSpan?)null : _options.CellTimeout ?? NotebookRunOptions.DefaultCellTimeout;
        void Log(string line) => progress.WriteLine($"  {name}: {line}");

        foreach (var cell in notebook.Cells.Where(c => c.Kind == CellKind.Code))
        {
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }
        var clock = Stopwatch.StartNew();
        var firstCode = notebook.Cells.FindIndex(c => c.Kind == CellKind.Code && !string.IsNullOrWhiteSpace(c.Source));
        if (firstCode < 0) return new NotebookRunResult(notebook, null, null, 0);

        KernelProcess kernel;
        try
        {
            kernel = await KernelProcess.StartAsync(directory, _options.Fast, Log, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            var first = notebook.Cells[firstCode];
            first.Outputs.Add(Interruption(firstCode + 1));
            return new NotebookRunResult(notebook, firstCode + 1, "Interrupted: the run was stopped before the kernel started", 0, Interrupted: true);
        }
        Log($"kernel ready in {Seconds(clock.Elapsed)} s (.NET Interactive {kernel.Engine})");
        await using (kernel)
        {
            return await RunCellsAsync(notebook, kernel, name, progress, interval, timeout, ct);
        }
    }

    private static async Task<NotebookRunResult> RunCellsAsync(Notebook notebook, KernelProcess kernel, string name, TextWriter progress,
        TimeSpan interval, TimeSpan? timeout, CancellationToken ct)
    {
        var displays = new Dictionary<string, (NotebookCell Cell, int Index)>(StringComparer.Ordinal);
        int executionCount = 0, total = notebook.Cells.Count;
        for (int i = 0; i < total; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.Kind != CellKind.Code || string.IsNullOrWhiteSpace(cell.Source)) continue;
            int number = i + 1, count = ++executionCount;
            cell.ExecutionCount = count;
            var state = new CellState(cell, number, count);
            var clock = Stopwatch.StartNew();
            using var ticker = new Timer(_ => progress.WriteLine(
                $"  {name}: cell {number}/{total} still running, {clock.Elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture)} s"),
                null, interval, interval);

            var outcome = await kernel.RunCellAsync(number, cell.Source, m => Apply(m, state, displays, line => progress.WriteLine($"  {name}: {line}")), timeout, ct);
            await ticker.DisposeAsync();
            string? error = state.Error;
            switch (outcome)
            {
                case CellOutcome.KernelExited:
                    var code = kernel.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
                    var message = $"the kernel process ended while cell {number} ran (exit code {code}); a cell must not end the process (Environment.Exit) — " +
                                  "the notebook's remaining cells were not run";
                    cell.Outputs.Add(new ErrorOutput("KernelExited", message, new[] { $"Cell {number} failed: {message}" }));
                    error = "KernelExited: " + message;
                    break;
                case CellOutcome.TimedOut:
                    var limit = Seconds(timeout!.Value);
                    cell.Outputs.Add(new ErrorOutput("CellTimeout", $"the cell ran longer than {limit} s (--cell-timeout)",
                        new[] { $"Cell {number} failed: it ran longer than {limit} s and was stopped (--cell-timeout)" }));
                    error = $"CellTimeout: the cell ran longer than {limit} s";
                    break;
                case CellOutcome.Cancelled:
                    cell.Outputs.Add(Interruption(number));
                    error = "Interrupted: the run was stopped (Ctrl-C or SIGTERM)";
                    break;
                case CellOutcome.Failed:
                    error ??= "the kernel reported a failure";
                    break;
            }
            progress.WriteLine($"  {name}: cell {number}/{total} [{count}] {(outcome == CellOutcome.Succeeded ? "ok" : "FAILED")} in {Seconds(clock.Elapsed)} s");
            if (outcome != CellOutcome.Succeeded)
                return new NotebookRunResult(notebook, number, error, executionCount, Interrupted: outcome == CellOutcome.Cancelled);
        }
        return new NotebookRunResult(notebook, null, null, executionCount);
    }

    /// <summary>Adds one kernel message to the running cell's outputs (or to the display it updates).</summary>
    private static void Apply(JsonObject m, CellState state, Dictionary<string, (NotebookCell Cell, int Index)> displays, Action<string> log)
    {
        var cell = state.Cell;
        switch ((string?)m["ev"])
        {
            case KernelProtocol.Stream:
                var streamName = (string?)m["name"] ?? "stdout";
                var text = (string?)m["text"] ?? "";
                if (text.Length == 0) break;
                if (cell.Outputs.Count > 0 && cell.Outputs[^1] is StreamOutput last && last.Name == streamName)
                    cell.Outputs[^1] = last with { Text = last.Text + text };
                else
                    cell.Outputs.Add(new StreamOutput(streamName, text));
                break;
            case KernelProtocol.Display when Bundle(m, state) is { } shown:
                cell.Outputs.Add(new DisplayDataOutput(shown));
                if ((string?)m["id"] is { Length: > 0 } id) displays[id] = (cell, cell.Outputs.Count - 1);
                break;
            case KernelProtocol.Update when Bundle(m, state) is { } updated:
                if ((string?)m["id"] is { } uid && displays.TryGetValue(uid, out var at)) at.Cell.Outputs[at.Index] = new DisplayDataOutput(updated);
                else cell.Outputs.Add(new DisplayDataOutput(updated));
                break;
            case KernelProtocol.Result when Bundle(m, state) is { } value:
                cell.Outputs.Add(new ExecuteResultOutput(state.ExecutionCount, value));
                break;
            case KernelProtocol.Error:
                var ename = (string?)m["ename"] ?? "Error";
                var evalue = (string?)m["evalue"] ?? "";
                var traceback = (m["traceback"] as JsonArray)?.Select(t => (string?)t ?? "").ToList() ?? new List<string>();
                cell.Outputs.Add(new ErrorOutput(ename, evalue, traceback));
                state.Error ??= $"{ename}: {evalue}";
                break;
            case KernelProtocol.Note:
                log((string?)m["text"] ?? "");
                break;
        }
    }

    private static MimeBundle? Bundle(JsonObject m, CellState state)
    {
        if (m["data"] is not JsonObject data || data.Count == 0) return null;
        var bundle = new MimeBundle();
        int tables = state.Tables;
        foreach (var (mime, value) in data) bundle[mime] = OutputNormalizer.Normalize(mime, (string?)value ?? "", state.Number, ref tables);
        state.Tables = tables;
        return bundle;
    }

    /// <summary>The running cell, its execution count and its first error ("Type: message").</summary>
    private sealed class CellState(NotebookCell cell, int number, int executionCount)
    {
        public NotebookCell Cell { get; } = cell;

        /// <summary>1-based position of the cell in the notebook.</summary>
        public int Number { get; } = number;

        /// <summary>HTML tables seen in the cell's outputs so far (for deterministic table ids).</summary>
        public int Tables { get; set; }

        public int ExecutionCount { get; } = executionCount;

        public string? Error { get; set; }
    }

    private static ErrorOutput Interruption(int number) =>
        new("Interrupted", "the run was stopped (Ctrl-C or SIGTERM)", new[] { $"Cell {number} was interrupted: the run stopped here; later cells were not run" });

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
}
